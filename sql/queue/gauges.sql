-- The queue gauges of the metrics (docs/operations.md), over every waiting room of an
-- event still to come: entries waiting (sold-out ones included), and admitted entries
-- holding an unused, unexpired pass. Read every few seconds by the admission sweep.
SELECT count(*) FILTER (WHERE q.status = 'waiting') AS waiting,
       count(*) FILTER (WHERE q.status = 'admitted' AND q.pass_expires_at > now()) AS passes_out
  FROM queue_entries q
  JOIN events e ON e.id = q.event_id
 WHERE q.status IN ('waiting', 'admitted')
   AND e.queue_admit_per_minute IS NOT NULL
   AND e.deleted_at IS NULL
   AND e.date > now();
