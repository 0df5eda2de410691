-- Register a webhook endpoint; its secret is returned here and never again by the API.
INSERT INTO webhook_endpoints (url, events, secret)
VALUES (:'url', :'events'::text[], :'secret')
RETURNING id, url, events, secret, created_at, disabled_at;
