package testenv

import (
	"context"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Postgres returns the DSN of a fresh, empty PostgreSQL database for one test,
// dropped when the test ends. The server comes from IMGATE_TEST_POSTGRES (a
// postgres:// URL of a superuser, e.g. postgres://postgres@127.0.0.1:55432/postgres,
// as started by the CI script per RECIPES.md); without it the test is Missing.
func Postgres(t testing.TB) string {
	t.Helper()
	base := os.Getenv("IMGATE_TEST_POSTGRES")
	if base == "" {
		Missing(t, "IMGATE_TEST_POSTGRES is not set (a postgres:// URL of a test server)")
		return ""
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("IMGATE_TEST_POSTGRES: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		Missing(t, "PostgreSQL at IMGATE_TEST_POSTGRES unreachable: %v", err)
		return ""
	}
	defer admin.Close(context.Background())
	name := "imgate_test_" + RandomHex(6)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u.Path = "/" + name
	return u.String()
}
