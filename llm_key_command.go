package llmgate

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/llmgate/caddy-llmgate/keyring"
	"github.com/spf13/cobra"
)

// The llm-key command makes and hashes llm_auth's gateway keys:
//
//	caddy llm-key new [--team <team>]   a new random key, its hash and a keys file entry
//	caddy llm-key hash [<key>]          the hash of a key (read from standard input if not given)
//
// as caddy hash-password does for basic_auth.
func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "llm-key",
		Usage: "new [--team <team>] | hash [<key>]",
		Short: "Makes and hashes llm_auth gateway keys",
		Long: `
llm_auth's keys file holds the SHA-256 of each key, never the key.

"new" makes a random key and prints it (give it to the caller; it is not
kept anywhere), its SHA-256, and the entry to add to the keys file.

"hash" prints the SHA-256 of a key: the key given as an argument, or read
from standard input (one line), so that it stays out of the shell history.`,
		CobraFunc: func(cmd *cobra.Command) {
			newCmd := &cobra.Command{
				Use:   "new",
				Short: "Makes a new random key",
				Args:  cobra.NoArgs,
				RunE: func(c *cobra.Command, _ []string) error {
					team, _ := c.Flags().GetString("team")
					return newKey(c.OutOrStdout(), team)
				},
			}
			newCmd.Flags().String("team", "", "the team of the keys file entry")
			cmd.AddCommand(newCmd, &cobra.Command{
				Use:   "hash [<key>]",
				Short: "Prints the SHA-256 of a key",
				Args:  cobra.MaximumNArgs(1),
				RunE: func(c *cobra.Command, args []string) error {
					return hashKey(c.OutOrStdout(), c.InOrStdin(), args)
				},
			})
		},
	})
}

// newKey prints a new key, its hash and a keys file entry.
func newKey(out io.Writer, team string) error {
	key := keyring.New()
	entry, _ := json.Marshal(keyring.Key{SHA256: keyring.Hash(key), Team: team})
	_, err := fmt.Fprintf(out, "key:    %s\nsha256: %s\nentry:  %s\n", key, keyring.Hash(key), entry)
	return err
}

// hashKey prints the hash of the key in args, or of the first line of in.
func hashKey(out io.Writer, in io.Reader, args []string) error {
	var key string
	if len(args) == 1 {
		key = args[0]
	} else {
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		key = strings.TrimRight(line, "\r\n")
	}
	if key == "" {
		return errors.New("no key given")
	}
	_, err := fmt.Fprintln(out, keyring.Hash(key))
	return err
}
