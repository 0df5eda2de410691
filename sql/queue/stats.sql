-- An event's waiting room in numbers (admin): entries waiting (sold_out ones included:
-- they wait in their place for tickets to come back), admitted with a valid pass,
-- purchased, and expired (marked so, or admitted with a pass that has run out).
-- Always one row; event_found / queued say why there are no numbers.
SELECT e.id IS NOT NULL AS event_found,
       e.queue_admit_per_minute IS NOT NULL AS queued,
       e.queue_admit_per_minute AS admit_per_minute,
       count(*) FILTER (WHERE q.status = 'waiting') AS waiting,
       count(*) FILTER (WHERE q.status = 'admitted' AND q.pass_expires_at > now()) AS admitted,
       count(*) FILTER (WHERE q.status = 'purchased') AS purchased,
       count(*) FILTER (WHERE q.status = 'expired'
                           OR q.status = 'admitted' AND q.pass_expires_at <= now()) AS expired
  FROM (SELECT) AS always_one_row
  LEFT JOIN events e ON e.id = :'event_id'::uuid AND e.deleted_at IS NULL
  LEFT JOIN queue_entries q ON q.event_id = e.id
 GROUP BY e.id, e.queue_admit_per_minute;
