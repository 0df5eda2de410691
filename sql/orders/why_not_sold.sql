-- After a purchase sold nothing: is the event missing, closed, too small an order cap,
-- or sold out? One cheap read of the event row.
SELECT remaining, max_per_order, date <= now() AS closed
  FROM events
 WHERE id = :'event_id'::uuid AND deleted_at IS NULL;
