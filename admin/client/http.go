package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // preview may be any format the server encodes
	_ "image/jpeg" // preview may be any format the server encodes
	_ "image/png"  // the documented preview format
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/imgate/imgate/gateway/adminapi"
)

// HTTPConfig configures an HTTP client; the zero value of each optional
// field is a sensible default.
type HTTPConfig struct {
	BaseURL string // e.g. http://127.0.0.1:8080 (without /v1/admin)
	Token   string // admin bearer token

	HTTPClient *http.Client  // for requests; default: 30 s timeout
	StreamHTTP *http.Client  // for the event stream; default: no timeout
	MinBackoff time.Duration // first reconnect delay; default 250 ms
	MaxBackoff time.Duration // largest reconnect delay; default 5 s
	// StreamIdle ends a stream that sent nothing (not even a comment) for
	// this long and reconnects; default 60 s, negative disables.
	StreamIdle time.Duration
	// MaxPreviewPixels refuses larger preview images; default 16 MP.
	MaxPreviewPixels int
}

// HTTP talks to the admin API over HTTP.
type HTTP struct {
	base   *url.URL
	cfg    HTTPConfig
	client *http.Client
	stream *http.Client
}

var _ Client = (*HTTP)(nil)

// NewHTTP checks cfg and returns a client.
func NewHTTP(cfg HTTPConfig) (*HTTP, error) {
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("admin url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("admin url %q: want http://host:port or https://host:port", cfg.BaseURL)
	}
	if cfg.Token == "" {
		return nil, errors.New("admin token is empty")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.StreamHTTP == nil {
		cfg.StreamHTTP = &http.Client{}
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 250 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = 5 * time.Second
		if cfg.MaxBackoff < cfg.MinBackoff {
			cfg.MaxBackoff = cfg.MinBackoff
		}
	}
	if cfg.StreamIdle == 0 {
		cfg.StreamIdle = 60 * time.Second
	}
	if cfg.MaxPreviewPixels <= 0 {
		cfg.MaxPreviewPixels = 16 << 20
	}
	return &HTTP{base: u, cfg: cfg, client: cfg.HTTPClient, stream: cfg.StreamHTTP}, nil
}

// URL returns the base URL the client talks to.
func (c *HTTP) URL() string { return c.base.String() }

// endpoint joins the base URL, an already escaped path and a query.
func (c *HTTP) endpoint(path string, q url.Values) string {
	s := strings.TrimRight(c.base.String(), "/") + path
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

// do sends one request; body (if not nil) is sent as JSON; a 2xx answer is
// decoded into out (if not nil), anything else becomes an *APIError.
func (c *HTTP) do(ctx context.Context, method, path string, q url.Values, body, out any) error {
	resp, err := c.send(ctx, method, path, q, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 32<<20)).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

func (c *HTTP) send(ctx context.Context, method, path string, q url.Values, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode body: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint(path, q), rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, decodeError(resp)
	}
	return resp, nil
}

// decodeError turns a non-2xx answer into an *APIError, using the JSON
// error body when there is one.
func decodeError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &APIError{Status: resp.StatusCode}
	var eb adminapi.ErrorBody
	if json.Unmarshal(b, &eb) == nil && (eb.Error.Message != "" || eb.Error.Code != "") {
		e.Code = eb.Error.Code
		e.Message = eb.Error.Message
	} else if s := strings.TrimSpace(string(b)); s != "" && len(s) < 200 && !strings.ContainsAny(s, "<{") {
		e.Message = s
	}
	return e
}

// Jobs implements Client.
func (c *HTTP) Jobs(ctx context.Context, f JobFilter) (adminapi.JobList, error) {
	q := url.Values{}
	if f.State != "" {
		q.Set("state", f.State)
	}
	if f.Prefix != "" {
		q.Set("prefix", f.Prefix)
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.Cursor != "" {
		q.Set("cursor", f.Cursor)
	}
	var out adminapi.JobList
	err := c.do(ctx, http.MethodGet, "/v1/admin/jobs", q, nil, &out)
	return out, err
}

func jobPath(id int64, suffix string) string {
	return "/v1/admin/jobs/" + strconv.FormatInt(id, 10) + suffix
}

// Job implements Client.
func (c *HTTP) Job(ctx context.Context, id int64) (adminapi.Job, error) {
	var out adminapi.Job
	err := c.do(ctx, http.MethodGet, jobPath(id, ""), nil, nil, &out)
	return out, err
}

// Retry implements Client.
func (c *HTTP) Retry(ctx context.Context, id int64) (adminapi.Job, error) {
	var out adminapi.Job
	err := c.do(ctx, http.MethodPost, jobPath(id, "/retry"), nil, nil, &out)
	return out, err
}

// Cancel implements Client.
func (c *HTTP) Cancel(ctx context.Context, id int64) (adminapi.Job, error) {
	var out adminapi.Job
	err := c.do(ctx, http.MethodPost, jobPath(id, "/cancel"), nil, nil, &out)
	return out, err
}

// Stats implements Client.
func (c *HTTP) Stats(ctx context.Context) (adminapi.Stats, error) {
	var out adminapi.Stats
	err := c.do(ctx, http.MethodGet, "/v1/admin/stats", nil, nil, &out)
	return out, err
}

// Webhooks implements Client.
func (c *HTTP) Webhooks(ctx context.Context) (adminapi.WebhookDeliveries, error) {
	var out adminapi.WebhookDeliveries
	err := c.do(ctx, http.MethodGet, "/v1/admin/webhooks", nil, nil, &out)
	return out, err
}

// Presets implements Client.
func (c *HTTP) Presets(ctx context.Context) (adminapi.PresetList, error) {
	var out adminapi.PresetList
	err := c.do(ctx, http.MethodGet, "/v1/admin/presets", nil, nil, &out)
	return out, err
}

// CreatePreset implements Client.
func (c *HTTP) CreatePreset(ctx context.Context, p adminapi.Preset) (adminapi.PresetList, error) {
	var out adminapi.PresetList
	err := c.do(ctx, http.MethodPost, "/v1/admin/presets", nil, p, &out)
	return out, err
}

func presetPath(name string) string { return "/v1/admin/presets/" + url.PathEscape(name) }

// UpdatePreset implements Client.
func (c *HTTP) UpdatePreset(ctx context.Context, name string, p adminapi.Preset) (adminapi.PresetList, error) {
	var out adminapi.PresetList
	err := c.do(ctx, http.MethodPut, presetPath(name), nil, p, &out)
	return out, err
}

// DeletePreset implements Client.
func (c *HTTP) DeletePreset(ctx context.Context, name string, deleteVariants bool) (adminapi.PresetList, error) {
	var q url.Values
	if deleteVariants {
		q = url.Values{"delete_variants": {"true"}}
	}
	var out adminapi.PresetList
	err := c.do(ctx, http.MethodDelete, presetPath(name), q, nil, &out)
	return out, err
}

// ValidatePreset implements Client.
func (c *HTTP) ValidatePreset(ctx context.Context, p adminapi.Preset) (adminapi.Validation, error) {
	var out adminapi.Validation
	err := c.do(ctx, http.MethodPost, "/v1/admin/presets/validate", nil, p, &out)
	return out, err
}

// Preview implements Client.
func (c *HTTP) Preview(ctx context.Context, req adminapi.PreviewRequest) (image.Image, error) {
	resp, err := c.send(ctx, http.MethodPost, "/v1/admin/preview", nil, req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("preview: read: %w", err)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("preview: not an image: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > c.cfg.MaxPreviewPixels {
		return nil, fmt.Errorf("preview: %dx%d image is too large to show", cfg.Width, cfg.Height)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("preview: decode: %w", err)
	}
	return img, nil
}

// StartBackfill implements Client.
func (c *HTTP) StartBackfill(ctx context.Context, req adminapi.BackfillRequest) (adminapi.Backfill, error) {
	var out adminapi.Backfill
	err := c.do(ctx, http.MethodPost, "/v1/admin/backfill", nil, req, &out)
	return out, err
}

// Backfill implements Client.
func (c *HTTP) Backfill(ctx context.Context) (adminapi.Backfill, error) {
	var out adminapi.Backfill
	err := c.do(ctx, http.MethodGet, "/v1/admin/backfill", nil, nil, &out)
	return out, err
}

// CancelBackfill implements Client.
func (c *HTTP) CancelBackfill(ctx context.Context) (adminapi.Backfill, error) {
	var out adminapi.Backfill
	err := c.do(ctx, http.MethodDelete, "/v1/admin/backfill", nil, nil, &out)
	return out, err
}
