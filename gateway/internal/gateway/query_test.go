package gateway

import (
	"net/url"
	"slices"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"

	userv1 "github.com/shopmesh/shopmesh/gen/go/shopmesh/user/v1"
)

func TestQueryFieldMaskIsReadAsProto3JSON(t *testing.T) {
	for query, want := range map[string][]string{
		"updateMask=displayName,shippingAddresses":   {"display_name", "shipping_addresses"},
		"updateMask=display_name,shipping_addresses": {"display_name", "shipping_addresses"},
		"update_mask=displayName":                    {"display_name"},
		"updateMask=price.currencyCode":              {"price.currency_code"},
	} {
		values, err := url.ParseQuery(query)
		if err != nil {
			t.Fatal(err)
		}
		req := &userv1.UpdateUserRequest{}
		if err := (&queryParser{}).Parse(req, values, &utilities.DoubleArray{}); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		if got := req.GetUpdateMask().GetPaths(); !slices.Equal(got, want) {
			t.Errorf("%s: paths %q, want %q", query, got, want)
		}
	}
}
