-- Rank and admit the next waiting entries of every open waiting room, in ONE statement:
-- run by each app process every QUEUE_ADMIT_MS (and by `flask admit-queue`). For each event:
--   * the entries joined since the last sweep get the next dense ranks, in `place` order
--     (the lottery of early arrivals first, then join order), so that a waiting entry's
--     position is rank - admitted, read in constant time (sql/queue/entry.sql); an entry
--     that commits after a sweep that ranked higher places is ranked by the next one;
--   * a token bucket (queue_admission) refills at admit_per_minute / 60 per second from
--     the moment the room opens (the later of the sale start and when the queue was
--     switched on) and holds at most one second's worth (at least 1), so admissions are
--     spread evenly and never come in bursts larger than one second's worth;
--   * never more unused, unexpired passes out than tickets left (`room`): a pass is a real
--     chance to buy;
--   * entries are admitted in rank order; each gets a pass (244 random bits) valid for
--     pass_seconds; queue_admission counts the entries ranked and admitted so far.
-- FOR UPDATE SKIP LOCKED on the bucket: sweeps running at once in several processes split
-- the events between them and never rank or admit for the same event twice. The event's
-- row is only read, never locked. Returns how many entries were admitted.
WITH locked AS (
    SELECT a.event_id, a.credit, a.refilled_at, a.ranked, a.xmin AS version, e.remaining,
           e.queue_admit_per_minute AS rate, e.queue_pass_seconds,
           greatest(e.queue_opened_at, coalesce(e.sale_starts_at, '-infinity')) AS opens
      FROM queue_admission a
      JOIN events e ON e.id = a.event_id
     WHERE e.queue_admit_per_minute IS NOT NULL
       AND e.deleted_at IS NULL
       AND e.date > now()
       AND greatest(e.queue_opened_at, coalesce(e.sale_starts_at, '-infinity')) <= now()
       AND (a.ranked > a.admitted  -- ranked entries still waiting, or entries to rank
            OR EXISTS (SELECT 1 FROM queue_entries w
                        WHERE w.event_id = a.event_id AND w.status = 'waiting' AND w.rank IS NULL))
       FOR UPDATE OF a SKIP LOCKED
), due AS (
    -- A sweep that committed between this statement's snapshot and its lock has ranked or
    -- admitted entries this snapshot still sees waiting: leave that event to the next sweep
    -- (the lock returns the newest version of the bucket, the join below the snapshot's).
    SELECT locked.*
      FROM locked
      JOIN queue_admission seen ON seen.event_id = locked.event_id AND seen.xmin = locked.version
), fresh AS (  -- the entries joined since the last sweep, ranked after the ranked ones
    SELECT w.id, w.event_id,
           due.ranked + row_number() OVER (PARTITION BY w.event_id ORDER BY w.place, w.id) AS rank
      FROM due
      JOIN queue_entries w ON w.event_id = due.event_id AND w.status = 'waiting' AND w.rank IS NULL
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
), chosen AS (  -- the first `least(credit, room)` waiting entries by rank, ranked or fresh
    SELECT next.id, budget.queue_pass_seconds
      FROM budget
     CROSS JOIN LATERAL (
           SELECT candidates.id
             FROM ((SELECT w.id, w.rank
                      FROM queue_entries w
                     WHERE w.event_id = budget.event_id AND w.status = 'waiting' AND w.rank IS NOT NULL
                     ORDER BY w.rank
                     LIMIT least(floor(budget.credit_now), budget.room))
                   UNION ALL
                   (SELECT fresh.id, fresh.rank
                      FROM fresh
                     WHERE fresh.event_id = budget.event_id
                     ORDER BY fresh.rank
                     LIMIT least(floor(budget.credit_now), budget.room))) AS candidates
            ORDER BY candidates.rank
            LIMIT least(floor(budget.credit_now), budget.room)
           ) next
), changes AS (  -- every fresh entry gets its rank; the chosen are admitted too
    SELECT coalesce(fresh.id, chosen.id) AS id, fresh.rank AS new_rank,
           chosen.id IS NOT NULL AS admit, chosen.queue_pass_seconds
      FROM fresh
      FULL JOIN chosen ON chosen.id = fresh.id
), changed AS (
    UPDATE queue_entries q
       SET rank = coalesce(changes.new_rank, q.rank),
           status = CASE WHEN changes.admit THEN 'admitted' ELSE q.status END,
           admitted_at = CASE WHEN changes.admit THEN now() ELSE q.admitted_at END,
           pass = CASE WHEN changes.admit
                       THEN replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')
                       ELSE q.pass END,
           pass_expires_at = CASE WHEN changes.admit
                                  THEN now() + make_interval(secs => changes.queue_pass_seconds)
                                  ELSE q.pass_expires_at END
      FROM changes
     WHERE q.id = changes.id AND q.status = 'waiting'
    RETURNING q.event_id, changes.admit, changes.new_rank IS NOT NULL AS ranked, q.place
), spent AS (
    UPDATE queue_admission a
       SET credit = greatest(0, budget.credit_now - totals.admitted),
           refilled_at = now(),
           ranked = a.ranked + totals.ranked,
           admitted = a.admitted + totals.admitted,
           ranked_through = greatest(a.ranked_through, totals.ranked_through)
      FROM budget
     CROSS JOIN LATERAL (
           SELECT count(*) FILTER (WHERE changed.admit) AS admitted,
                  count(*) FILTER (WHERE changed.ranked) AS ranked,
                  max(changed.place) FILTER (WHERE changed.ranked) AS ranked_through
             FROM changed
            WHERE changed.event_id = budget.event_id
           ) totals
     WHERE a.event_id = budget.event_id
)
SELECT count(*) FILTER (WHERE admit) AS admitted FROM changed;
