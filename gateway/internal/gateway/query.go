package gateway

import (
	"net/url"
	"strings"
	"unicode"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// queryParser is grpc-gateway's query parser, except that a FieldMask in
// the query string is read as proto3 JSON reads one: `?updateMask=displayName`
// means the field display_name. grpc-gateway copies the paths verbatim, so
// the upstream would get "displayName". Paths with an underscore are taken
// as field paths already.
type queryParser struct {
	runtime.DefaultQueryParser
}

func (p *queryParser) Parse(msg proto.Message, values url.Values, filter *utilities.DoubleArray) error {
	if err := p.DefaultQueryParser.Parse(msg, values, filter); err != nil {
		return err
	}
	fieldMasksToFieldPaths(msg.ProtoReflect())
	return nil
}

func fieldMasksToFieldPaths(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind || fd.IsList() || fd.IsMap() {
			return true
		}
		if fm, ok := v.Message().Interface().(*fieldmaskpb.FieldMask); ok {
			for i, path := range fm.Paths {
				if !strings.Contains(path, "_") {
					fm.Paths[i] = camelToSnake(path)
				}
			}
			return true
		}
		fieldMasksToFieldPaths(v.Message())
		return true
	})
}

// camelToSnake: "price.currencyCode" -> "price.currency_code".
func camelToSnake(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsUpper(r) {
			b.WriteByte('_')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
