-- Forget deliveries that ended (delivered or failed) more than :retention_days ago, a
-- bounded batch at a time; the log keeps the recent ones. Pending deliveries are never
-- pruned. Returns how many rows were deleted (the caller repeats while it is the batch).
WITH old AS (
    SELECT id
      FROM webhook_deliveries
     WHERE coalesce(delivered_at, failed_at) < now() - make_interval(days => :'retention_days'::int)
     LIMIT :'batch_size'::int
       FOR UPDATE SKIP LOCKED
)
DELETE FROM webhook_deliveries d USING old WHERE d.id = old.id;
