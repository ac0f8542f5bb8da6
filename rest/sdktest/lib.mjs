// Shared helpers of the SDK scripts: the SDK itself (loaded from the path in
// OYSTEHR_SDK, installed by .ci/run), a client on the Atrium under test, the
// shapes of the SDK's response types (src/resources/types/*.ts of
// @oystehr/sdk 4.2.6) and a small step runner that reports what it called.
import { createHmac } from 'node:crypto';
import { pathToFileURL } from 'node:url';

const sdk = await import(pathToFileURL(process.env.OYSTEHR_SDK).href);
export const Oystehr = sdk.default;

export const baseUrl = process.env.ATRIUM_URL;

// client builds the SDK exactly as the README tells users to ('' leaves
// the token or the project out).
export function client(accessToken = process.env.ATRIUM_TOKEN, projectId = process.env.ATRIUM_PROJECT, extra = {}) {
  return new Oystehr({ projectApiUrl: `${baseUrl}/v1`, accessToken, projectId, ...extra });
}

// --- shapes ---------------------------------------------------------------
// A shape maps each key to a check; keys marked optional(...) may be absent.
const OPT = Symbol('optional');
export const optional = (check) => ({ [OPT]: check });
export const str = (v) => typeof v === 'string';
export const bool = (v) => typeof v === 'boolean';
export const num = (v) => typeof v === 'number';
export const strOrNull = (v) => v === null || typeof v === 'string';
export const arrayOf = (check) => (v) => Array.isArray(v) && v.every((x) => conforms(x, check) === '');
export const oneOf = (...vals) => (v) => vals.includes(v);
export const matches = (re) => (v) => typeof v === 'string' && re.test(v);

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ruleShape = {
  resource: (v) => str(v) || arrayOf(str)(v),
  action: (v) => str(v) || arrayOf(str)(v),
  effect: oneOf('Allow', 'Deny'),
  condition: optional((v) => v !== null),
};
export const AccessPolicy = { rule: arrayOf(ruleShape) };
export const RoleStub = { id: str, name: str };
export const Project = {
  id: matches(uuid), name: str, description: str, signupEnabled: bool, sandbox: bool,
  defaultPatientRole: optional(RoleStub), defaultSSOUserRole: optional(RoleStub), fhirVersion: oneOf('r4', 'r5'),
};
export const Role = { id: str, name: str, description: optional(str), accessPolicy: AccessPolicy };
export const RoleListItem = { id: str, name: str, memberCount: num };
export const Application = {
  id: str, name: str, clientId: str, connectionName: optional(str), description: optional(str),
  loginRedirectUri: optional(str), loginWithEmailEnabled: optional(bool), allowedCallbackUrls: optional(arrayOf(str)),
  allowedLogoutUrls: optional(arrayOf(str)), allowedWebOriginsUrls: optional(arrayOf(str)),
  allowedCORSOriginsUrls: optional(arrayOf(str)), passwordlessSMS: optional(bool), mfaEnabled: optional(bool),
  shouldSendInviteEmail: optional(bool), logoUri: optional(str), refreshTokenEnabled: optional(bool),
};
export const ApplicationListItem = { id: str, name: str, clientId: str, description: optional(str) };
const profileRef = matches(/^(Practitioner|Patient|RelatedPerson|Device)\/[0-9a-f-]{36}$/);
export const User = {
  id: str, name: str, email: strOrNull, phoneNumber: strOrNull, authenticationMethod: str,
  accessPolicy: optional(AccessPolicy), ssoData: optional((v) => typeof v === 'object'), profile: profileRef,
  roles: optional(arrayOf(RoleStub)),
};
export const UserInviteResponse = { ...User, ssoData: undefined, invitationUrl: matches(/^https?:\/\/.+ticket=/) };
delete UserInviteResponse.ssoData;
export const UserListItem = { id: str, name: str, email: str, profile: profileRef };
export const M2m = {
  id: str, clientId: str, profile: profileRef, jwksUrl: optional(str), name: str, description: optional(str),
  accessPolicy: optional(AccessPolicy), roles: arrayOf(RoleStub),
};
export const M2mListItem = { ...M2m };
delete M2mListItem.roles;
export const M2mListV2Item = { id: str, name: str, description: optional(str) };
export const Developer = { id: str, email: str, name: str, profile: profileRef, roles: arrayOf(RoleStub) };
export const DeveloperInviteResponse = { id: str, email: str, practitionerId: str, roles: arrayOf(RoleStub) };
export const DeveloperListItem = { id: str, name: str };
export const DeveloperListV2Item = { id: str, email: str, name: str, profile: profileRef };
export const Version = { api: oneOf('project'), version: str, environment: oneOf('production') };
export const listV2 = (item) => ({ data: arrayOf(item), metadata: { nextCursor: strOrNull } });

// conforms returns '' when v has shape, else what is wrong. Keys the type
// does not declare are allowed (TypeScript's structural typing allows them).
export function conforms(v, shape, path = '$') {
  if (typeof shape === 'function') return shape(v) ? '' : `${path}: unexpected ${JSON.stringify(v)}`;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return `${path}: want an object, got ${JSON.stringify(v)}`;
  for (const [k, check] of Object.entries(shape)) {
    const opt = check && check[OPT];
    if (!(k in v)) {
      if (opt) continue;
      return `${path}.${k}: missing`;
    }
    if (opt && v[k] === undefined) continue;
    const err = conforms(v[k], opt || check, `${path}.${k}`);
    if (err) return err;
  }
  return '';
}

// --- steps ----------------------------------------------------------------
const called = new Set();
const failures = [];
let passed = 0;

// used records that the SDK method `name` (e.g. "user.invite") was called.
export function used(name) { called.add(name); }

// step runs one check; a failure is recorded and the script goes on.
export async function step(name, fn) {
  try {
    await fn();
    passed++;
  } catch (e) {
    failures.push(`${name}: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`);
  }
}

export function assert(cond, msg) { if (!cond) throw new Error(msg); }
export function shape(v, s, what) {
  const err = conforms(v, s);
  if (err) throw new Error(`${what} does not match the SDK type: ${err} in ${JSON.stringify(v)}`);
  return v;
}

// rejects awaits p and checks that it fails with the SDK's error of code
// (and, when given, a message matching re).
export async function rejects(p, code, re) {
  try {
    await p;
  } catch (e) {
    assert(e instanceof Oystehr.OystehrSdkError, `want OystehrSdkError, got ${e}`);
    assert(e.code === code, `want code ${code}, got ${e.code} (${e.message})`);
    if (re) assert(re.test(e.message), `message ${JSON.stringify(e.message)} does not match ${re}`);
    return e;
  }
  throw new Error(`want an error with code ${code}, got success`);
}

// methods lists the SDK methods of the named resources.
export function methodsOf(oy, resources) {
  const out = [];
  for (const r of resources) {
    for (const m of Object.getOwnPropertyNames(Object.getPrototypeOf(oy[r]))) {
      if (m !== 'constructor' && typeof oy[r][m] === 'function' && !m.startsWith('#')) out.push(`${r}.${m}`);
    }
  }
  return out.sort();
}

// finish prints the summary line the Go test reads and sets the exit code.
export function finish(expected) {
  const missing = expected.filter((m) => !called.has(m));
  for (const m of missing) failures.push(`${m}: never called`);
  console.log(JSON.stringify({ methods: [...called].sort(), called: called.size, steps: passed + failures.length, passed, failures }));
  process.exitCode = failures.length ? 1 : 0;
}

// graphql posts a query to the same Atrium (for what the SDK has no
// method for: accepting an invitation, signing in).
export async function graphql(query, variables, token = process.env.ATRIUM_TOKEN, project = process.env.ATRIUM_PROJECT) {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  if (project) headers['x-oystehr-project-id'] = project;
  const res = await fetch(`${baseUrl}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = await res.json();
  if (body.errors) throw new Error(`graphql: ${JSON.stringify(body.errors)}`);
  return body.data;
}

// totp computes the RFC 6238 code (SHA-1, 6 digits, 30 s) of a base32
// secret at time t (seconds), as an authenticator app does.
export function totp(secret, t = Date.now() / 1000) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(t / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const off = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}
