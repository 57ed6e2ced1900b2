package fuse

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

func key(t *testing.T, instance, name string) Key {
	t.Helper()
	res := pcommon.NewResource()
	if instance != "" {
		res.Attributes().PutStr("service.instance.id", instance)
	}
	return KeyOf(res, component.NewIDWithName(component.MustNewType("genai"), name))
}

// A request is found by the processor it names in its own collector only, claimed once, and
// gone after Unregister (then a new connector may ask again: a reloaded configuration).
func TestRegisterClaimUnregister(t *testing.T) {
	k := key(t, "collector-a", "p")
	r, err := Register(k, []byte(`{}`))
	require.NoError(t, err)
	_, err = Register(k, []byte(`{}`))
	assert.ErrorContains(t, err, "another genai_metrics connector already counts in its pass")

	none, err := Claim(key(t, "collector-b", "p"))
	require.NoError(t, err)
	assert.Nil(t, none, "another collector's processor of the same name")

	got, err := Claim(k)
	require.NoError(t, err)
	assert.Same(t, r, got)
	assert.JSONEq(t, `{}`, string(got.Metrics()))
	_, err = Claim(k)
	assert.ErrorContains(t, err, "is in more than one pipeline")
	assert.Nil(t, r.Take(), "nothing published")

	r.Unregister()
	r.Unregister()
	assert.False(t, Registered(k))
	again, err := Register(k, []byte(`{}`))
	require.NoError(t, err)
	again.Unregister()
}
