// Issue a UCAN with @ucans/ucans from a given Ed25519 seed; print JSON to stdout.
// usage: node ucan_issue.mjs '<json>'
//   {"seed_hex": "<32 bytes hex>", "aud": "did:key:...", "caps": [{"with": "...", "can": "..."}],
//    "lifetime": 60, "exp": <unix>?, "nbf": <unix>?, "proofs": ["<jwt or cid>"], "nonce": true}
// out: {"token": "<jwt>", "did": "<issuer did>", "cid": "<CIDv1 raw sha2-256 base32>"}
import * as ucans from "@ucans/ucans";
import * as ed25519 from "@stablelib/ed25519";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";

const args = JSON.parse(process.argv[2]);
const seed = Uint8Array.from(Buffer.from(args.seed_hex, "hex"));
const kp = ed25519.generateKeyPairFromSeed(seed);
const keypair = new ucans.EdKeypair(kp.secretKey, kp.publicKey, false);
const capabilities = (args.caps || []).map((c) => ({
  with: ucans.capability.resourcePointer.parse(c.with),
  can: ucans.capability.ability.parse(c.can),
}));
const ucan = await ucans.build({
  issuer: keypair,
  audience: args.aud,
  capabilities,
  lifetimeInSeconds: args.lifetime ?? 60,
  expiration: args.exp,
  notBefore: args.nbf,
  proofs: args.proofs ?? [],
  addNonce: args.nonce ?? false,
});
const token = ucans.encode(ucan);
const digest = await sha256.digest(new TextEncoder().encode(token));
const cid = CID.createV1(raw.code, digest).toString();
process.stdout.write(JSON.stringify({ token, did: keypair.did(), cid }) + "\n");
