-- Remove an endpoint and its delivery log. No row: no such endpoint.
DELETE FROM webhook_endpoints WHERE id = :'id'::uuid RETURNING id;
