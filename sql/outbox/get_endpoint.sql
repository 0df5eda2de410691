-- One webhook endpoint (without its secret).
SELECT id, url, events, created_at, disabled_at
  FROM webhook_endpoints
 WHERE id = :'id'::uuid;
