// Calls every method of the SDK's version, project, role, application,
// user, m2m and developer resources against a real Atrium, and checks each
// answer against the SDK's types. Run by rest/sdk_test.go.
import {
  client, step, assert, shape, rejects, used, methodsOf, finish, graphql, baseUrl, totp,
  Version, Project, Role, RoleListItem, Application, ApplicationListItem, User, UserInviteResponse, UserListItem,
  M2m, M2mListItem, M2mListV2Item, Developer, DeveloperInviteResponse, DeveloperListItem, DeveloperListV2Item, listV2, arrayOf,
} from './lib.mjs';

const oy = client();
const resources = ['version', 'project', 'role', 'application', 'user', 'm2m', 'developer'];
const policy = { rule: [{ resource: ['Project:Settings'], action: 'Project:GetProjectInfo', effect: 'Allow' }] };
const ctx = {};

// --- version, project ---
await step('version.get (public, no token)', async () => {
  used('version.get');
  shape(await client('', '').version.get(), Version, 'version.get');
});
await step('project.get', async () => {
  used('project.get');
  const p = shape(await oy.project.get(), Project, 'project.get');
  assert(p.id === process.env.ATRIUM_PROJECT && p.fhirVersion === 'r4', `project ${JSON.stringify(p)}`);
});

// --- role ---
await step('role.create', async () => {
  used('role.create');
  ctx.role = shape(await oy.role.create({ name: 'Staff', description: 'front desk', accessPolicy: policy }), Role, 'role.create');
  assert(ctx.role.name === 'Staff' && ctx.role.accessPolicy.rule.length === 1, JSON.stringify(ctx.role));
});
await step('role.list', async () => {
  used('role.list');
  const list = shape(await oy.role.list(), arrayOf(RoleListItem), 'role.list');
  const staff = list.find((r) => r.id === ctx.role.id);
  assert(staff && staff.memberCount === 0, JSON.stringify(list));
});
await step('role.get', async () => {
  used('role.get');
  const r = shape(await oy.role.get({ roleId: ctx.role.id }), Role, 'role.get');
  assert(r.description === 'front desk', JSON.stringify(r));
});
await step('role.update', async () => {
  used('role.update');
  const r = shape(await oy.role.update({ roleId: ctx.role.id, description: 'desk' }), Role, 'role.update');
  assert(r.description === 'desk' && r.name === 'Staff', JSON.stringify(r));
});
await step('project.update sets and clears a default role', async () => {
  used('project.update');
  let p = shape(await oy.project.update({ defaultPatientRoleId: ctx.role.id, description: 'via the SDK' }), Project, 'project.update');
  assert(p.defaultPatientRole && p.defaultPatientRole.id === ctx.role.id && p.defaultPatientRole.name === 'Staff', JSON.stringify(p));
  await rejects(oy.role.delete({ roleId: ctx.role.id }), 409, /default/);
  p = shape(await oy.project.update({ defaultPatientRoleId: null }), Project, 'project.update(null)');
  assert(!('defaultPatientRole' in p) && p.description === 'via the SDK', JSON.stringify(p));
  // No params: PATCH with no body at all.
  shape(await oy.project.update(), Project, 'project.update()');
});

// --- application ---
await step('application.create', async () => {
  used('application.create');
  ctx.app = shape(await oy.application.create({
    name: 'EHR', allowedCallbackUrls: ['https://ehr.example.com/cb'], loginRedirectUri: 'https://ehr.example.com/login',
  }), Application, 'application.create');
});
await step('application.list', async () => {
  used('application.list');
  const list = shape(await oy.application.list(), arrayOf(ApplicationListItem), 'application.list');
  assert(list.some((a) => a.id === ctx.app.id && a.clientId === ctx.app.clientId), JSON.stringify(list));
});
await step('application.get', async () => {
  used('application.get');
  const a = shape(await oy.application.get({ id: ctx.app.id }), Application, 'application.get');
  assert(a.allowedCallbackUrls[0] === 'https://ehr.example.com/cb', JSON.stringify(a));
});
await step('application.update', async () => {
  used('application.update');
  const a = shape(await oy.application.update({ id: ctx.app.id, description: 'clinic' }), Application, 'application.update');
  assert(a.description === 'clinic' && a.name === 'EHR', JSON.stringify(a));
});
await step('application.rotateSecret answers a new secret each time, once', async () => {
  used('application.rotateSecret');
  const first = await oy.application.rotateSecret({ id: ctx.app.id });
  assert(Object.keys(first).join() === 'secret' && typeof first.secret === 'string' && first.secret.length >= 40, JSON.stringify(first));
  const second = await oy.application.rotateSecret({ id: ctx.app.id });
  assert(typeof second.secret === 'string' && second.secret !== first.secret, 'a rotation must give a new secret');
  const again = await oy.application.get({ id: ctx.app.id });
  assert(!JSON.stringify(again).includes(second.secret) && !('secret' in again) && !('secretHash' in again), JSON.stringify(again));
  await rejects(oy.application.rotateSecret({ id: '00000000-0000-4000-8000-000000000000' }), 404, /not found/);
});
await step('application.revokeRefreshToken refuses a token Atrium did not issue; revokeAccessToken needs a token', async () => {
  used('application.revokeRefreshToken'); used('application.revokeAccessToken');
  await rejects(oy.application.revokeRefreshToken({ id: ctx.app.id, token: 'x' }), 400, /not a refresh token/);
  await rejects(oy.application.revokeAccessToken({ id: ctx.app.id }), 400);
});

// --- user ---
const email = 'jon.snow@example.com';
await step('user.invite', async () => {
  used('user.invite');
  ctx.user = shape(await oy.user.invite({
    email, username: 'Jon Snow', applicationId: ctx.app.id, roles: [ctx.role.id],
    resource: { resourceType: 'Practitioner', name: [{ family: 'Snow', given: ['Jon'] }] },
  }), UserInviteResponse, 'user.invite');
  assert(ctx.user.phoneNumber === null && ctx.user.email === email && ctx.user.profile.startsWith('Practitioner/'), JSON.stringify(ctx.user));
  assert(ctx.user.roles.length === 1 && ctx.user.roles[0].name === 'Staff', JSON.stringify(ctx.user.roles));
});
await step('user.invite of the same email is a 409 with a message', async () => {
  await rejects(oy.user.invite({ email, applicationId: ctx.app.id, roles: [ctx.role.id], resource: { resourceType: 'Practitioner' } }), 409, /already/);
});
await step('user.invite naming a missing field is a 400 naming it', async () => {
  await rejects(oy.user.invite({ email: 'x@example.com', applicationId: ctx.app.id, resource: { resourceType: 'Practitioner' } }), 400, /roles/);
});
await step('user.get', async () => {
  used('user.get');
  const u = shape(await oy.user.get({ id: ctx.user.id }), User, 'user.get');
  assert(u.name === 'Jon Snow', JSON.stringify(u));
});
await step('user.update', async () => {
  used('user.update');
  const u = shape(await oy.user.update({ id: ctx.user.id, roles: [ctx.role.id], accessPolicy: policy }), User, 'user.update');
  assert(u.accessPolicy.rule.length === 1 && u.roles.length === 1, JSON.stringify(u));
});
await step('user.list (deprecated)', async () => {
  used('user.list');
  const list = shape(await oy.user.list(), arrayOf(UserListItem), 'user.list');
  assert(list.some((u) => u.id === ctx.user.id), JSON.stringify(list));
});
await step('user.listV2 pages with cursor=undefined first, then nextCursor until null', async () => {
  used('user.listV2');
  for (const n of [2, 3]) {
    await oy.user.invite({ email: `u${n}@example.com`, applicationId: ctx.app.id, roles: [ctx.role.id], resource: { resourceType: 'Patient' } });
  }
  const seen = [];
  let cursor; // undefined on the first page: the SDK sends cursor=undefined
  for (let i = 0; i < 10; i++) {
    const page = shape(await oy.user.listV2({ limit: 1, cursor, sort: 'email', sortOrder: 'desc' }), listV2(UserListItem), 'user.listV2');
    seen.push(...page.data.map((u) => u.email));
    cursor = page.metadata.nextCursor;
    if (cursor === null) break;
  }
  assert(JSON.stringify(seen) === JSON.stringify(['u3@example.com', 'u2@example.com', email]), JSON.stringify(seen));
  const one = await oy.user.listV2({ email, roleId: ctx.role.id });
  assert(one.data.length === 1 && one.data[0].id === ctx.user.id && one.metadata.nextCursor === null, JSON.stringify(one));
  const byId = await oy.user.listV2({ id: ctx.user.id, profile: ctx.user.profile });
  assert(byId.data.length === 1 && byId.data[0].email === email, JSON.stringify(byId));
  for (const sort of ['id', 'name', 'phoneNumber', 'createdAt']) {
    const all = [];
    let c;
    do {
      const page = await oy.user.listV2({ sort, sortOrder: 'asc', limit: 2, cursor: c });
      all.push(...page.data.map((u) => u.id));
      c = page.metadata.nextCursor;
    } while (c !== null);
    assert(all.length === 3 && new Set(all).size === 3, `sort ${sort}: ${JSON.stringify(all)}`);
    if (sort === 'id') assert(JSON.stringify(all) === JSON.stringify([...all].sort()), `by id: ${all}`);
  }
  const none = await oy.user.listV2({ name: 'nobody' });
  assert(none.data.length === 0 && none.metadata.nextCursor === null, JSON.stringify(none));
  await rejects(oy.user.listV2({ limit: 101 }), 400, /limit/);
});
await step('user.me with a user token', async () => {
  used('user.me');
  const ticket = new URL(ctx.user.invitationUrl).searchParams.get('ticket');
  await graphql('mutation($t: String!) { acceptInvitation(input: {ticket: $t, password: "correct horse battery"}) { user { id } } }', { t: ticket }, '', '');
  const s = await graphql('mutation($a: ID!, $e: String!) { signIn(input: {applicationId: $a, email: $e, password: "correct horse battery"}) { accessToken } }',
    { a: ctx.app.id, e: email }, '', '');
  const me = shape(await client(s.signIn.accessToken, '').user.me(), User, 'user.me');
  assert(me.id === ctx.user.id, JSON.stringify(me));
  await rejects(oy.user.me(), 403);
});
await step('user.resetMfa removes the TOTP factor a user enrolled', async () => {
  used('user.resetMfa');
  const app = shape(await oy.application.update({ id: ctx.app.id, mfaEnabled: true }), Application, 'application.update(mfaEnabled)');
  assert(app.mfaEnabled === true, JSON.stringify(app));
  const start = 'mutation($a: ID!, $e: String!) { startSignIn(input: {applicationId: $a, email: $e, password: "correct horse battery"}) { next state } }';
  let s = (await graphql(start, { a: ctx.app.id, e: email }, '', '')).startSignIn;
  assert(s.next === 'ENROL_TOTP', JSON.stringify(s));
  const e = (await graphql('mutation($s: String!) { beginTotpEnrolment(input: {state: $s}) { secret } }', { s: s.state }, '', '')).beginTotpEnrolment;
  const done = (await graphql('mutation($s: String!, $c: String!) { confirmTotpEnrolment(input: {state: $s, code: $c}) { next amr recoveryCodes } }',
    { s: s.state, c: totp(e.secret) }, '', '')).confirmTotpEnrolment;
  assert(done.next === 'DONE' && done.recoveryCodes.length === 10 && done.amr.includes('otp'), JSON.stringify(done));
  s = (await graphql(start, { a: ctx.app.id, e: email }, '', '')).startSignIn;
  assert(s.next === 'VERIFY_TOTP', `enrolled: ${JSON.stringify(s)}`);
  const answer = await oy.user.resetMfa({ id: ctx.user.id });
  assert(answer === null || answer === undefined, `resetMfa answered ${JSON.stringify(answer)}`);
  s = (await graphql(start, { a: ctx.app.id, e: email }, '', '')).startSignIn;
  assert(s.next === 'ENROL_TOTP', `after the reset: ${JSON.stringify(s)}`);
  await rejects(oy.user.resetMfa({ id: '00000000-0000-4000-8000-000000000000' }), 404);
  await oy.application.update({ id: ctx.app.id, mfaEnabled: false });
});
await step('user.resetPasswordLink returns a working link; redirectUrl must be an application URL', async () => {
  used('user.resetPasswordLink');
  await rejects(oy.user.resetPasswordLink({ id: ctx.user.id, redirectUrl: 'https://ehr.example.com' }), 400, /redirectUrl/);
  const link = await oy.user.resetPasswordLink({ id: ctx.user.id, redirectUrl: 'https://ehr.example.com/cb' });
  assert(typeof link.url === 'string' && typeof link.expiresAt === 'string', JSON.stringify(link));
  const u = new URL(link.url);
  assert(u.pathname === `/p/${process.env.ATRIUM_PROJECT}/reset` && u.searchParams.get('ticket'), link.url);
  const page = await fetch(`${baseUrl}${u.pathname}${u.search}`);
  const html = await page.text();
  assert(page.status === 200 && html.includes(email), `${page.status} ${html}`);
});
await step('role.delete of a role in use is a 409', async () => {
  await rejects(oy.role.delete({ roleId: ctx.role.id }), 409);
});

// --- m2m ---
await step('m2m.create', async () => {
  used('m2m.create');
  ctx.m2m = shape(await oy.m2m.create({ name: 'Backend', description: 'jobs', roles: [ctx.role.id] }), M2m, 'm2m.create');
  assert(ctx.m2m.profile.startsWith('Device/') && ctx.m2m.roles[0].id === ctx.role.id, JSON.stringify(ctx.m2m));
});
await step('m2m.list (deprecated)', async () => {
  used('m2m.list');
  const list = shape(await oy.m2m.list(), arrayOf(M2mListItem), 'm2m.list');
  assert(list.some((c) => c.name === 'Default') && list.some((c) => c.id === ctx.m2m.id), JSON.stringify(list));
});
await step('m2m.listV2', async () => {
  used('m2m.listV2');
  const page = shape(await oy.m2m.listV2({ name: 'back' }), listV2(M2mListV2Item), 'm2m.listV2');
  assert(page.data.length === 1 && page.data[0].id === ctx.m2m.id && page.metadata.nextCursor === null, JSON.stringify(page));
  const byProfile = await oy.m2m.listV2({ id: ctx.m2m.id, profile: ctx.m2m.profile, roleId: ctx.role.id });
  assert(byProfile.data.length === 1, JSON.stringify(byProfile));
  const first = await oy.m2m.listV2({ limit: 1, cursor: undefined });
  assert(first.data.length === 1 && typeof first.metadata.nextCursor === 'string', JSON.stringify(first));
  const second = await oy.m2m.listV2({ limit: 1, cursor: first.metadata.nextCursor });
  assert(second.data.length === 1 && second.data[0].id !== first.data[0].id && second.metadata.nextCursor === null, JSON.stringify(second));
});
await step('m2m.get', async () => {
  used('m2m.get');
  shape(await oy.m2m.get({ id: ctx.m2m.id }), M2m, 'm2m.get');
});
await step('m2m.update', async () => {
  used('m2m.update');
  const c = shape(await oy.m2m.update({ id: ctx.m2m.id, description: 'nightly jobs' }), M2m, 'm2m.update');
  assert(c.description === 'nightly jobs', JSON.stringify(c));
});
await step('m2m.rotateSecret, then m2m.me with its token', async () => {
  used('m2m.rotateSecret'); used('m2m.me');
  const { secret } = await oy.m2m.rotateSecret({ id: ctx.m2m.id });
  assert(typeof secret === 'string' && secret.length > 20, 'secret');
  const res = await fetch(`${baseUrl}/oauth/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: ctx.m2m.clientId, client_secret: secret }),
  });
  const tok = await res.json();
  assert(res.ok, JSON.stringify(tok));
  const me = shape(await client(tok.access_token, '').m2m.me(), M2m, 'm2m.me');
  assert(me.id === ctx.m2m.id, JSON.stringify(me));
});

// --- developer ---
await step('developer.invite', async () => {
  used('developer.invite');
  ctx.dev = shape(await oy.developer.invite({
    email: 'dev@example.com', practitioner: { resourceType: 'Practitioner', name: [{ family: 'Dev' }] }, roles: [ctx.role.id],
  }), DeveloperInviteResponse, 'developer.invite');
  assert(ctx.dev.roles[0].name === 'Staff', JSON.stringify(ctx.dev));
});
await step('developer.list (deprecated)', async () => {
  used('developer.list');
  const list = shape(await oy.developer.list(), arrayOf(DeveloperListItem), 'developer.list');
  assert(list.some((d) => d.id === ctx.dev.id && d.name === 'dev@example.com'), JSON.stringify(list));
});
await step('developer.listV2', async () => {
  used('developer.listV2');
  const page = shape(await oy.developer.listV2({ email: 'dev@example.com' }), listV2(DeveloperListV2Item), 'developer.listV2');
  assert(page.data.length === 1 && page.data[0].profile === `Practitioner/${ctx.dev.practitionerId}`, JSON.stringify(page));
  const byAll = await oy.developer.listV2({ id: ctx.dev.id, name: 'DEV@', profile: page.data[0].profile, roleId: ctx.role.id });
  assert(byAll.data.length === 1, JSON.stringify(byAll));
});
await step('a developer token (the same as GraphQL\'s) with the project in the SDK\'s headers', async () => {
  const ticket = new URL(ctx.dev.invitationUrl).searchParams.get('ticket');
  await graphql('mutation($t: String!) { acceptInvitation(input: {ticket: $t, password: "correct horse battery"}) { developer { id } } }', { t: ticket }, '', '');
  const s = await graphql('mutation { signInDeveloper(input: {email: "dev@example.com", password: "correct horse battery"}) { accessToken } }', {}, '', '');
  const dev = client(s.signInDeveloper.accessToken, process.env.ATRIUM_PROJECT);
  const p = shape(await dev.project.get(), Project, 'project.get as a developer');
  assert(p.id === process.env.ATRIUM_PROJECT, JSON.stringify(p));
  // Without the project the developer's token names none.
  await rejects(client(s.signInDeveloper.accessToken, '').project.get(), 400, /x-oystehr-project-id/);
  // Its policy decides: the Staff role allows the project, not roles.
  await rejects(dev.role.list(), 403, /IAM:ListAllRoles/);
});
await step('developer.get', async () => {
  used('developer.get');
  const d = shape(await oy.developer.get({ id: ctx.dev.id }), Developer, 'developer.get');
  assert(d.email === 'dev@example.com', JSON.stringify(d));
});
await step('developer.update', async () => {
  used('developer.update');
  const d = shape(await oy.developer.update({ id: ctx.dev.id, roles: [], accessPolicy: policy }), Developer, 'developer.update');
  assert(d.roles.length === 0, JSON.stringify(d));
});

await step('a retried call with the same request id is answered once', async () => {
  const params = { name: 'Once', roles: [ctx.role.id] };
  const a = await oy.m2m.create(params, { requestId: 'sdk-retry-0001' });
  const b = await oy.m2m.create(params, { requestId: 'sdk-retry-0001' });
  assert(a.id === b.id && a.clientId === b.clientId, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  const named = (await oy.m2m.listV2({ name: 'Once' })).data;
  assert(named.length === 1, JSON.stringify(named));
  assert(await oy.m2m.delete({ id: a.id }) === null, 'm2m.delete');
});

// --- deletes: 204, then 404 ---
await step('developer.delete, m2m.delete, user.delete, application.delete, role.delete answer 204 (null)', async () => {
  used('developer.delete'); used('m2m.delete'); used('user.delete'); used('application.delete'); used('role.delete');
  assert(await oy.developer.delete({ id: ctx.dev.id }) === null, 'developer.delete');
  assert(await oy.m2m.delete({ id: ctx.m2m.id }) === null, 'm2m.delete');
  for (const u of (await oy.user.listV2({ roleId: ctx.role.id, limit: 100 })).data) {
    assert(await oy.user.delete({ id: u.id }) === null, 'user.delete');
  }
  await rejects(oy.user.get({ id: ctx.user.id }), 404, /not found/);
  assert(await oy.application.delete({ id: ctx.app.id }) === null, 'application.delete');
  assert(await oy.role.delete({ roleId: ctx.role.id }) === null, 'role.delete');
  await rejects(oy.role.get({ roleId: ctx.role.id }), 404);
});

finish(methodsOf(oy, resources));
