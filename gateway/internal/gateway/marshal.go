package gateway

import (
	"encoding/json"
	"errors"
	"io"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"
)

// jsonMarshaler is grpc-gateway's protojson marshaler with the settings of
// the public contract: lowerCamelCase names (the OpenAPI document's), unset
// fields left out, unknown fields rejected; and a decoder that also rejects
// data after the JSON value, which runtime.JSONPb silently ignores.
type jsonMarshaler struct {
	runtime.JSONPb
}

func newJSONMarshaler() *jsonMarshaler {
	return &jsonMarshaler{runtime.JSONPb{
		MarshalOptions: protojson.MarshalOptions{
			UseProtoNames:   false,
			EmitUnpopulated: false,
		},
		UnmarshalOptions: protojson.UnmarshalOptions{
			DiscardUnknown: false,
		},
	}}
}

var errTrailingData = errors.New("unexpected data after the JSON value")

// NewDecoder decodes exactly one JSON value. An empty body still yields
// io.EOF, which the generated handlers read as "no body".
func (m *jsonMarshaler) NewDecoder(r io.Reader) runtime.Decoder {
	d := json.NewDecoder(r)
	inner := runtime.DecoderWrapper{Decoder: d, UnmarshalOptions: m.UnmarshalOptions}
	return runtime.DecoderFunc(func(v any) error {
		if err := inner.Decode(v); err != nil {
			return err
		}
		switch _, err := d.Token(); {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		default:
			return errTrailingData
		}
	})
}
