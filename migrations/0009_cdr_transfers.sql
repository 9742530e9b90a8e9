-- Transfers through the API: the call's CDR names where it was last transferred to (an
-- extension, `queue:<name>` or a number); the released agent's leg gets its own CDR row with
-- hangup cause `transferred` and the same column set.
ALTER TABLE cdrs ADD COLUMN transferred_to TEXT;
