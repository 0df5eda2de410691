-- After a purchase sold nothing: is the buyer's token revoked (token_version differs, or
-- NULL: no such account), or is the event missing (remaining NULL), closed, not on sale
-- yet, too small an order cap, behind a waiting room the buyer has no valid pass for,
-- over the buyer's limit, or sold out (of the event, or of the ticket type)? One cheap
-- read; always one row.
-- type_*: the ticket type asked for (:ticket_type_id, or when null the event's first),
-- NULL when the event has no such type (another event's type is not this event's).
-- pass_*: the pass given (:queue_pass) as stored, NULL when unknown (or none given);
-- pass_state is its status with `expired` derived from pass_expires_at.
SELECT (SELECT token_version FROM users WHERE id = :'user_id'::uuid) AS token_version,
       e.remaining, e.max_per_order, e.date <= now() AS closed,
       e.sale_starts_at, e.sale_starts_at > now() AS not_started,
       e.max_per_user,
       tt.id AS type_id, tt.name AS type_name, tt.remaining AS type_remaining,
       tt.max_per_order AS type_max_per_order,
       (SELECT h.tickets FROM holdings h
         WHERE h.event_id = e.id AND h.user_id = :'user_id'::uuid) AS held,
       e.queue_admit_per_minute IS NOT NULL AS queued,
       p.user_id = :'user_id'::uuid AS pass_mine,
       p.event_id = e.id AS pass_for_event,
       CASE WHEN p.status = 'admitted' AND p.pass_expires_at <= now() THEN 'expired'
            ELSE p.status END AS pass_state
  FROM (SELECT) AS always_one_row
  LEFT JOIN events e ON e.id = :'event_id'::uuid AND e.deleted_at IS NULL
  LEFT JOIN ticket_types tt
         ON tt.event_id = e.id
        AND tt.id = coalesce(:'ticket_type_id'::uuid,
                             (SELECT f.id FROM ticket_types f WHERE f.event_id = e.id
                               ORDER BY f.position LIMIT 1))
  LEFT JOIN queue_entries p ON p.pass = :'queue_pass'::text;
