package auth

import (
	"errors"
	"fmt"
	"strings"
)

func validateKey(ak, sk string) error {
	switch {
	case len(ak) < 3 || len(ak) > 128:
		return errors.New("access key must be 3 to 128 characters")
	case strings.ContainsAny(ak, "/ \t\r\n,=") || strings.HasPrefix(ak, tempPrefix):
		return fmt.Errorf("access key may not contain '/', ',', '=', spaces or start with %q", tempPrefix)
	case len(sk) < 8 || len(sk) > 128:
		return errors.New("secret key must be 8 to 128 characters")
	}
	return nil
}

// CheckPrefix validates the key prefix a credential is declared with (a
// configured key or API key, /v1/credentials, an upload token): "" (every
// key) or a relative path ending in "/", so "users/42/" never covers
// "users/420/". Credentials minted for one URL use string prefixes (a key,
// a form's key_prefix) and are checked by validPrefix only.
func CheckPrefix(p string) error {
	if err := validPrefix(p); err != nil {
		return err
	}
	if p != "" && !strings.HasSuffix(p, "/") {
		return fmt.Errorf("prefix %q must end with \"/\" (as it is, it would also cover %q); use %q", p, p+"0/", p+"/")
	}
	return nil
}

func validPrefix(p string) error {
	if len(p) > 512 || strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\x00*?") {
		return fmt.Errorf("invalid prefix %q", p)
	}
	return nil
}
