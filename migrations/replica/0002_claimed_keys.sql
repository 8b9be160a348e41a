-- The key of the task a done op created or claimed (an allocation's work
-- item). Finding out whether a claim left in doubt took effect has to tell
-- the items the user's other claims took from the one this claim would
-- have taken (docs/decisions/0009).
ALTER TABLE outbox ADD COLUMN result_key TEXT;
