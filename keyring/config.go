package keyring

import "fmt"

// Config is a Ring's configuration in the form the Caddyfile and JSON
// configs take.
type Config struct {
	// KeysFile is the path of a keys file (File): hashes only. It is read
	// when the Ring is made, so a reload picks up its changes.
	KeysFile string `json:"keys_file,omitempty"`
	// Keys given in the config itself.
	Keys []InlineKey `json:"keys,omitempty"`
	// From are the headers callers put their key in (canonical names).
	// Default: DefaultFrom.
	From []string `json:"from,omitempty"`
}

// InlineKey is a key given in the config: by its text (best a placeholder
// such as {env.GATEWAY_KEY_CI}, expanded when the Ring is made, so that
// the config holds no key) or, like a keys file's, by its SHA-256.
type InlineKey struct {
	// Text is the key, or a placeholder of it.
	Text string `json:"key,omitempty"`
	Key
}

// Ring makes the Ring of c: the keys file's keys and the inline ones,
// their text expanded by expand and hashed.
func (c *Config) Ring(expand func(string) string) (*Ring, error) {
	var keys []Key
	if c.KeysFile != "" {
		fileKeys, err := ReadFile(expand(c.KeysFile))
		if err != nil {
			return nil, fmt.Errorf("keys_file: %v", err)
		}
		keys = fileKeys
	}
	for i, k := range c.Keys {
		if k.Text != "" {
			text := expand(k.Text)
			if text == "" {
				return nil, fmt.Errorf("key %d of the config: %s is empty", i+1, k.Text)
			}
			k.SHA256 = Hash(text)
		}
		keys = append(keys, k.Key)
	}
	return NewRing(keys, c.From)
}
