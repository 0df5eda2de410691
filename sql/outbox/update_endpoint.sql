-- Change an endpoint: a null parameter keeps the column; `disabled` true stops deliveries
-- to it (they wait, and resume when it is enabled again), false enables it.
-- No row: no such endpoint.
UPDATE webhook_endpoints
   SET url = coalesce(:'url', url),
       events = coalesce(:'events'::text[], events),
       disabled_at = CASE
           WHEN :'disabled'::boolean IS NULL THEN disabled_at
           WHEN :'disabled'::boolean THEN coalesce(disabled_at, now())
       END
 WHERE id = :'id'::uuid
RETURNING id, url, events, created_at, disabled_at;
