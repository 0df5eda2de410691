-- After a purchase sold nothing: is the buyer's token revoked (token_version differs, or
-- NULL: no such account), or is the event missing (remaining NULL), closed, too small an
-- order cap, or sold out? One cheap read of the user and event rows; always one row.
SELECT (SELECT token_version FROM users WHERE id = :'user_id'::uuid) AS token_version,
       e.remaining, e.max_per_order, e.date <= now() AS closed
  FROM (SELECT) AS always_one_row
  LEFT JOIN events e ON e.id = :'event_id'::uuid AND e.deleted_at IS NULL;
