-- Admit the next waiting entries of every open waiting room, in ONE statement: run by
-- each app process every QUEUE_ADMIT_MS (and by `flask admit-queue`). For each event:
--   * a token bucket (queue_admission) refills at admit_per_minute / 60 per second from
--     the moment the room opens (the later of the sale start and when the queue was
--     switched on) and holds at most one second's worth (at least 1), so admissions are
--     spread evenly and never come in bursts larger than one second's worth;
--   * never more unused, unexpired passes out than tickets left (`room`): a pass is a real
--     chance to buy;
--   * entries go in `place` order (the lottery of early arrivals first, then join order);
--     each gets a pass (244 random bits) valid for pass_seconds.
-- FOR UPDATE SKIP LOCKED on the bucket: sweeps running at once in several processes split
-- the events between them and never admit for the same event twice. The event's row is
-- only read, never locked. Returns how many entries were admitted.
WITH due AS (
    SELECT a.event_id, a.credit, a.refilled_at, e.remaining,
           e.queue_admit_per_minute AS rate, e.queue_pass_seconds,
           greatest(e.queue_opened_at, coalesce(e.sale_starts_at, '-infinity')) AS opens
      FROM queue_admission a
      JOIN events e ON e.id = a.event_id
     WHERE e.queue_admit_per_minute IS NOT NULL
       AND e.deleted_at IS NULL
       AND e.date > now()
       AND greatest(e.queue_opened_at, coalesce(e.sale_starts_at, '-infinity')) <= now()
       AND EXISTS (SELECT 1 FROM queue_entries w WHERE w.event_id = a.event_id AND w.status = 'waiting')
       FOR UPDATE OF a SKIP LOCKED
), budget AS (
    SELECT due.event_id, due.queue_pass_seconds,
           least(greatest(1.0, due.rate / 60.0),
                 due.credit + greatest(0, extract(epoch FROM now() - greatest(due.refilled_at, due.opens)))
                              * due.rate / 60.0)
               AS credit_now,
           greatest(0, due.remaining - (SELECT count(*) FROM queue_entries p
                                         WHERE p.event_id = due.event_id AND p.status = 'admitted'
                                           AND p.pass_expires_at > now())) AS room
      FROM due
), chosen AS (
    SELECT w.id, budget.event_id, budget.queue_pass_seconds
      FROM budget
     CROSS JOIN LATERAL (
           SELECT id
             FROM queue_entries w
            WHERE w.event_id = budget.event_id AND w.status = 'waiting'
            ORDER BY w.place
            LIMIT least(floor(budget.credit_now), budget.room)
           ) w
), admitted AS (
    UPDATE queue_entries q
       SET status = 'admitted',
           admitted_at = now(),
           pass = replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''),
           pass_expires_at = now() + make_interval(secs => chosen.queue_pass_seconds)
      FROM chosen
     WHERE q.id = chosen.id AND q.status = 'waiting'
    RETURNING q.event_id
), spent AS (
    UPDATE queue_admission a
       SET credit = greatest(0, budget.credit_now
                                - (SELECT count(*) FROM admitted WHERE admitted.event_id = budget.event_id)),
           refilled_at = now()
      FROM budget
     WHERE a.event_id = budget.event_id
)
SELECT count(*) AS admitted FROM admitted;
