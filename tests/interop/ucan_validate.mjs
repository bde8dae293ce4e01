// Validate UCANs with @ucans/ucans (`ucans.validate`: one layer: issuer key type,
// signature, time bounds) and print what it parsed, as JSON lines on stdout.
// usage: node ucan_validate.mjs <jwt> [<jwt> ...]
// out per token: {"ok": true, "header": {...}, "payload": {...}, "cid": "..."}
//             or {"ok": false, "error": "..."}
import * as ucans from "@ucans/ucans";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";

for (const token of process.argv.slice(2)) {
  try {
    const u = await ucans.validate(token);
    const digest = await sha256.digest(new TextEncoder().encode(token));
    const att = u.payload.att.map((c) => ({
      with: ucans.capability.resourcePointer.encode(c.with),
      can: ucans.capability.ability.encode(c.can),
    }));
    process.stdout.write(JSON.stringify({
      ok: true,
      header: { ...u.header, ucv: `${u.header.ucv.major}.${u.header.ucv.minor}.${u.header.ucv.patch}` },
      payload: { ...u.payload, att },
      cid: CID.createV1(raw.code, digest).toString(),
    }) + "\n");
  } catch (e) {
    process.stdout.write(JSON.stringify({ ok: false, error: String(e && e.message || e) }) + "\n");
  }
}
