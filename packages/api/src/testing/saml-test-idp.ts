/**
 * Test support for the SAML tests: a real SAML 2.0 identity provider (`samlify` in its IdP role)
 * on 127.0.0.1:<random> over real HTTP. It publishes its metadata, takes Tessera's AuthnRequest
 * on the HTTP-Redirect binding (parsed and checked by samlify), shows a login form where the
 * test picks the account and the AuthnContextClassRef, and answers with an auto-submitting
 * HTTP-POST form to the SP's assertion consumer service, signed by samlify (xml-crypto).
 * `respond` builds the same signed responses directly, with every field the attack tests bend.
 * Keys and certificates are made at start (RSA 2048, self-signed), never stored. No internet.
 */
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs the Reflect polyfill
import { randomBytes, webcrypto } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { inflateRawSync } from 'node:zlib';
import * as x509 from '@peculiar/x509';
import * as samlify from 'samlify';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
// samlify asks for an XSD validator; these tests check the SP, not samlify's inputs.
samlify.setSchemaValidator({ validate: () => Promise.resolve('skipped') });

const POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
export const PASSWORD_CONTEXT = 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport';
export const MFA_CONTEXT = 'urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract';

export interface SamlTestUser {
  nameId: string;
  email?: string;
  name?: string;
  groups?: string[];
}

export interface SigningKey {
  privateKeyPem: string;
  certificatePem: string;
  /** Base64 DER, as metadata carries it. */
  certificateDer: string;
}

export interface ResponseOptions {
  sp: { entityId: string; acsUrl: string };
  user: SamlTestUser;
  inResponseTo?: string | null;
  /** Which element samlify signs. Default 'response'. 'none' sends it unsigned. */
  sign?: 'response' | 'assertion' | 'both' | 'none';
  key?: SigningKey;
  issuer?: string;
  audience?: string;
  recipient?: string;
  destination?: string;
  notBefore?: Date;
  notOnOrAfter?: Date;
  authnContext?: string;
  assertionId?: string;
}

export interface SamlTestIdp {
  entityId: string;
  ssoUrl: string;
  metadataUrl: string;
  /** Metadata XML listing the current key (and the next one after `addNextKey`). */
  metadataXml(): string;
  key: SigningKey;
  /** A second key: listed in the metadata next to the first; `useKey` makes it sign. */
  addNextKey(): Promise<SigningKey>;
  useKey(key: SigningKey): void;
  users: Map<string, SamlTestUser>;
  /** Service providers the login flow answers, by SP entity id. */
  sps: Map<string, { acsUrl: string }>;
  /** A signed (or, on request, unsigned) SAMLResponse, base64, as the POST binding carries it. */
  respond(options: ResponseOptions): Promise<string>;
  close(): Promise<void>;
}

export async function makeSigningKey(commonName = 'Tessera Test IdP'): Promise<SigningKey> {
  const algorithm = {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 2048,
  };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex'),
    name: `CN=${commonName}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 24 * 60 * 60_000),
    signingAlgorithm: algorithm,
    keys,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const b64 =
    pkcs8
      .toString('base64')
      .match(/.{1,64}/g)
      ?.join('\n') ?? '';
  return {
    privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`,
    certificatePem: cert.toString('pem'),
    certificateDer: Buffer.from(cert.rawData).toString('base64'),
  };
}

const escape = (value: string): string =>
  value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function attributeXml(name: string, values: readonly string[]): string {
  const items = values
    .map((v) => `<saml:AttributeValue xsi:type="xs:string">${escape(v)}</saml:AttributeValue>`)
    .join('');
  return `<saml:Attribute Name="${escape(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">${items}</saml:Attribute>`;
}

/** The Response document samlify signs: every field under the test's control. */
export function responseXml(options: ResponseOptions & { issuer: string; id: string }): string {
  const now = new Date();
  const notBefore = (options.notBefore ?? new Date(now.getTime() - 1_000)).toISOString();
  const notOnOrAfter = (options.notOnOrAfter ?? new Date(now.getTime() + 5 * 60_000)).toISOString();
  const irt =
    options.inResponseTo === null || options.inResponseTo === undefined
      ? ''
      : ` InResponseTo="${escape(options.inResponseTo)}"`;
  const u = options.user;
  const attributes = [
    ...(u.email ? [attributeXml('email', [u.email])] : []),
    ...(u.name ? [attributeXml('displayName', [u.name])] : []),
    ...(u.groups?.length ? [attributeXml('groups', u.groups)] : []),
  ].join('');
  const assertionId = options.assertionId ?? `_a${randomBytes(16).toString('hex')}`;
  return (
    `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${options.id}" Version="2.0" IssueInstant="${now.toISOString()}" Destination="${escape(options.destination ?? options.sp.acsUrl)}"${irt}>` +
    `<saml:Issuer>${escape(options.issuer)}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
    `<saml:Assertion xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema" ID="${assertionId}" Version="2.0" IssueInstant="${now.toISOString()}">` +
    `<saml:Issuer>${escape(options.issuer)}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">${escape(u.nameId)}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="${notOnOrAfter}" Recipient="${escape(options.recipient ?? options.sp.acsUrl)}"${irt}/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${notBefore}" NotOnOrAfter="${notOnOrAfter}"><saml:AudienceRestriction><saml:Audience>${escape(options.audience ?? options.sp.entityId)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${now.toISOString()}" SessionIndex="_s${randomBytes(8).toString('hex')}"><saml:AuthnContext><saml:AuthnContextClassRef>${escape(options.authnContext ?? PASSWORD_CONTEXT)}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
    (attributes ? `<saml:AttributeStatement>${attributes}</saml:AttributeStatement>` : '') +
    `</saml:Assertion></samlp:Response>`
  );
}

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function html(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html><body>${body}</body></html>`);
}

export async function startSamlTestIdp(): Promise<SamlTestIdp> {
  let handler: (req: IncomingMessage, res: ServerResponse) => Promise<void> = async () => {};
  const server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  const base = `http://127.0.0.1:${address.port}`;
  const entityId = `${base}/metadata`;
  const ssoUrl = `${base}/sso`;
  const keys: SigningKey[] = [await makeSigningKey()];
  let signing = keys[0] as SigningKey;
  const users = new Map<string, SamlTestUser>();
  const sps = new Map<string, { acsUrl: string }>();

  // Signing names the one certificate of the signing key; the metadata lists every key.
  const idpFor = (key: SigningKey, listAll = false) =>
    samlify.IdentityProvider({
      entityID: entityId,
      privateKey: key.privateKeyPem,
      signingCert: listAll ? keys.map((k) => k.certificatePem) : key.certificatePem,
      requestSignatureAlgorithm: RSA_SHA256,
      singleSignOnService: [{ Binding: REDIRECT, Location: ssoUrl }],
      nameIDFormat: ['urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'],
    });
  const spFor = (sp: { entityId: string; acsUrl: string }, sign: ResponseOptions['sign']) =>
    samlify.ServiceProvider({
      entityID: sp.entityId,
      assertionConsumerService: [{ Binding: POST, Location: sp.acsUrl }],
      wantAssertionsSigned: sign === 'assertion' || sign === 'both',
      wantMessageSigned: sign === 'both' || sign === 'response' || sign === undefined,
    });

  const respond = async (options: ResponseOptions): Promise<string> => {
    const key = options.key ?? signing;
    const id = `_r${randomBytes(16).toString('hex')}`;
    const xml = responseXml({ ...options, issuer: options.issuer ?? entityId, id });
    if (options.sign === 'none') return Buffer.from(xml).toString('base64');
    const { context } = await idpFor(key).createLoginResponse(
      spFor(options.sp, options.sign),
      { extract: { request: { id: options.inResponseTo ?? '' } } },
      'post',
      { email: options.user.email ?? '' },
      { customTagReplacement: () => ({ id, context: xml }) },
    );
    return context;
  };

  handler = async (req, res) => {
    const url = new URL(req.url ?? '/', base);
    if (req.method === 'GET' && url.pathname === '/metadata') {
      res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' });
      res.end(idpFor(signing, true).getMetadata());
      return;
    }
    if (req.method === 'GET' && url.pathname === '/sso') {
      // Which SP asks: its Issuer, then samlify parses and checks the request for that SP.
      const deflated = Buffer.from(url.searchParams.get('SAMLRequest') ?? '', 'base64');
      const requestXml = inflateRawSync(deflated).toString('utf8');
      const spEntityId = /<(?:saml2?:)?Issuer[^>]*>([^<]+)</.exec(requestXml)?.[1] ?? '';
      const sp = sps.get(spEntityId);
      if (!sp) {
        res.writeHead(400).end('unknown service provider');
        return;
      }
      const parsed = await idpFor(signing).parseLoginRequest(
        spFor({ entityId: spEntityId, ...sp }, 'response'),
        'redirect',
        { query: Object.fromEntries(url.searchParams) },
      );
      const requestId = String((parsed.extract as { request?: { id?: string } }).request?.id ?? '');
      html(
        res,
        `<h1>Test IdP sign-in</h1><form method="post" action="/login">` +
          `<input type="hidden" name="sp" value="${escape(spEntityId)}">` +
          `<input type="hidden" name="requestId" value="${escape(requestId)}">` +
          `<label>Account <input name="login" aria-label="Account"></label>` +
          `<label>Context <input name="context" aria-label="Context" value="${PASSWORD_CONTEXT}"></label>` +
          `<button type="submit">Sign in at the IdP</button></form>`,
      );
      return;
    }
    if (req.method === 'POST' && url.pathname === '/login') {
      const form = await formBody(req);
      const spEntityId = form.get('sp') ?? '';
      const sp = sps.get(spEntityId);
      const user = users.get(form.get('login') ?? '');
      if (!sp || !user) {
        res.writeHead(403).end('unknown account');
        return;
      }
      const requestId = form.get('requestId') || null;
      const samlResponse = await respond({
        sp: { entityId: spEntityId, acsUrl: sp.acsUrl },
        user,
        inResponseTo: requestId,
        authnContext: form.get('context') || PASSWORD_CONTEXT,
      });
      html(
        res,
        `<form id="post" method="post" action="${escape(sp.acsUrl)}">` +
          `<input type="hidden" name="SAMLResponse" value="${escape(samlResponse)}"></form>` +
          `<script>document.getElementById('post').submit()</script>`,
      );
      return;
    }
    res.writeHead(404).end();
  };

  return {
    entityId,
    ssoUrl,
    metadataUrl: `${base}/metadata`,
    metadataXml: () => idpFor(signing, true).getMetadata(),
    get key() {
      return signing;
    },
    async addNextKey() {
      const next = await makeSigningKey('Tessera Test IdP (next)');
      keys.push(next);
      return next;
    },
    useKey(key) {
      signing = key;
    },
    users,
    sps,
    respond,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
