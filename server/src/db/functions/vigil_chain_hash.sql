-- The journal's chain link, its one implementation: SHA-256 over the previous hash and the event's RFC 8785
-- canonical JSON. The application writes that JSON around the seq (canonicalAroundSeq), which is known only
-- under the tenant's lock and spliced in here; appending and verifying both call this.
CREATE OR REPLACE FUNCTION public.vigil_chain_hash(p_prev text, p_prefix text, p_seq bigint, p_suffix text)
 RETURNS text
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
AS $function$ select encode(sha256(convert_to(p_prev || p_prefix || p_seq::text || p_suffix, 'UTF8')), 'hex') $function$
