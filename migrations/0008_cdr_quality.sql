-- Media quality per call side, as Centrala received it: RTP packets, packets lost (RFC 3550
-- A.3), interarrival jitter (A.8) and an E-model MOS estimate. NULL when the call had no media.
ALTER TABLE cdrs ADD COLUMN caller_packets BIGINT;
ALTER TABLE cdrs ADD COLUMN caller_lost BIGINT;
ALTER TABLE cdrs ADD COLUMN caller_jitter_us BIGINT;
ALTER TABLE cdrs ADD COLUMN caller_mos DOUBLE PRECISION;
ALTER TABLE cdrs ADD COLUMN callee_packets BIGINT;
ALTER TABLE cdrs ADD COLUMN callee_lost BIGINT;
ALTER TABLE cdrs ADD COLUMN callee_jitter_us BIGINT;
ALTER TABLE cdrs ADD COLUMN callee_mos DOUBLE PRECISION;
