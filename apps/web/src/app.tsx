/** Shell: header, navigation by role, routes, focus and title on navigation. */
import { lazy, Suspense, useEffect, useRef, type JSX, type ReactNode } from 'react';
import { Loading, ErrorMessage } from './components/states';
import { AdminPage } from './features/admin/admin-page';
import { AcceptInvitePage } from './features/auth/accept-invite';
import { ResetPasswordPage } from './features/auth/reset-password';
import { ConfirmLinkPage } from './features/auth/confirm-link';
import { SignInPage } from './features/auth/sign-in';
import { SignUpPage } from './features/auth/sign-up';
import { AuditPage } from './features/audit/audit-page';
import { CompliancePage } from './features/compliance/compliance-page';
import { DomainsPage } from './features/domains/domains-page';
import { HomePage } from './features/home-page';
import { PrivacyPage } from './features/privacy/privacy-page';
import { SecurityPage } from './features/security/security-page';
import { ScimPage } from './features/scim/scim-page';
import { AppsPage } from './features/oidc/apps-page';
import { RolesPage } from './features/roles/roles-page';
import { useEnrollmentRequired } from './lib/enrollment';
import { Link, navigate, Redirect, useLocation } from './lib/router';
import { hasRole, refreshSession, useMe, type Me, type Permission, type Role } from './lib/session';
import { api } from './lib/trpc';

// The charts library stays out of the main bundle: loaded with the overview page only.
const SecurityOverviewPage = lazy(() =>
  import('./features/overview/overview-page').then((m) => ({ default: m.SecurityOverviewPage })),
);

interface Page {
  title: string;
  roles?: readonly Role[];
  /** Also shown to anyone holding this permission (a custom role, docs/roles.md). */
  permission?: Permission;
  render: (me: Me) => ReactNode;
}

const mayOpen = (me: Me | null, page: Page): boolean =>
  (!page.roles && !page.permission) ||
  (page.roles !== undefined && hasRole(me, page.roles)) ||
  (page.permission !== undefined && me !== null && me.permissions.includes(page.permission));

const PAGES: Record<string, Page> = {
  '/': { title: 'Overview', render: (me) => <HomePage me={me} /> },
  '/security': { title: 'Security', render: (me) => <SecurityPage me={me} /> },
  '/privacy': { title: 'My data', render: () => <PrivacyPage /> },
  '/admin': {
    title: 'Administration',
    roles: ['owner', 'admin'],
    permission: 'users:read',
    render: (me) => <AdminPage me={me} />,
  },
  '/audit': {
    title: 'Audit log',
    roles: ['owner', 'admin', 'compliance'],
    permission: 'audit:read',
    render: () => <AuditPage />,
  },
  '/compliance': {
    title: 'Compliance',
    roles: ['owner', 'compliance'],
    permission: 'compliance:read',
    render: () => <CompliancePage />,
  },
  '/domains': {
    title: 'Domains',
    roles: ['owner', 'admin'],
    permission: 'domains:read',
    render: () => <DomainsPage />,
  },
  '/provisioning': {
    title: 'Provisioning',
    roles: ['owner', 'admin'],
    permission: 'scim:read',
    render: () => <ScimPage />,
  },
  '/apps': {
    title: 'Apps',
    roles: ['owner', 'admin'],
    permission: 'oidc:read',
    render: (me) => <AppsPage me={me} />,
  },
  '/security-overview': {
    title: 'Security overview',
    roles: ['owner', 'admin', 'compliance'],
    permission: 'overview:read',
    render: () => (
      <Suspense fallback={<Loading label="Loading the overview…" />}>
        <SecurityOverviewPage />
      </Suspense>
    ),
  },
  '/roles': {
    title: 'Roles',
    permission: 'roles:read',
    render: (me) => <RolesPage me={me} />,
  },
};

const PUBLIC: Record<string, { title: string; render: () => ReactNode }> = {
  '/sign-in': { title: 'Sign in', render: () => <SignInPage /> },
  '/sign-up': { title: 'Create your organisation', render: () => <SignUpPage /> },
  '/accept-invite': { title: 'Accept invitation', render: () => <AcceptInvitePage /> },
  '/reset-password': { title: 'Reset password', render: () => <ResetPasswordPage /> },
  '/verify-email': {
    title: 'Confirm e-mail',
    render: () => <ConfirmLinkPage kind="verify-email" />,
  },
  '/confirm-email-change': {
    title: 'Confirm new e-mail',
    render: () => <ConfirmLinkPage kind="email-change" />,
  },
};

export function App(): JSX.Element {
  const { path, search } = useLocation();
  const { me, loading, error } = useMe();
  const main = useRef<HTMLElement>(null);
  const publicPage = PUBLIC[path];
  const page = PAGES[path];
  const title = publicPage?.title ?? page?.title ?? 'Not found';

  useEffect(() => {
    document.title = `${title} · Tessera`;
    // Move focus to the new content so screen readers announce the page change.
    main.current?.focus({ preventScroll: true });
  }, [path, title]);

  let content: ReactNode;
  if (loading) content = <Loading />;
  else if (error) content = <ErrorMessage error={error} />;
  else if (publicPage)
    content =
      me && (path === '/sign-in' || path === '/sign-up') && !search.get('reauth') ? (
        <Redirect to="/" />
      ) : (
        publicPage.render()
      );
  else if (!me)
    content = (
      <Redirect to={`/sign-in${path === '/' ? '' : `?next=${encodeURIComponent(path)}`}`} />
    );
  else if (!page) content = <NotFound />;
  else if (!mayOpen(me, page)) content = <Forbidden />;
  else content = page.render(me);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Header me={me} path={path} />
      <main id="main" ref={main} tabIndex={-1}>
        {me ? <EnrollmentBanner path={path} /> : null}
        {content}
      </main>
    </>
  );
}

function Header({ me, path }: { me: Me | null; path: string }): JSX.Element {
  const signOut = async (): Promise<void> => {
    try {
      await api.auth.signOut.mutate();
    } finally {
      await refreshSession();
      navigate('/sign-in', { replace: true });
    }
  };
  const links = Object.entries(PAGES).filter(([, p]) => mayOpen(me, p));
  return (
    <header className="topbar">
      <div className="brand">
        <Link to="/">Tessera</Link>
        {me ? <span className="tenant">{me.tenant.name}</span> : null}
      </div>
      {me ? (
        <>
          <nav aria-label="Main">
            <ul>
              {links.map(([to, p]) => (
                <li key={to}>
                  <Link to={to} aria-current={path === to ? 'page' : undefined}>
                    {p.title}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
          <div className="account">
            <span>
              {me.user.email} <span className="badge">{me.user.role}</span>
            </span>
            <button type="button" className="secondary small" onClick={signOut}>
              Sign out
            </button>
          </div>
        </>
      ) : null}
    </header>
  );
}

function EnrollmentBanner({ path }: { path: string }): JSX.Element | null {
  const required = useEnrollmentRequired();
  if (!required || path === '/security') return null;
  return (
    <div className="alert info" role="status">
      Your organisation requires two-factor authentication.{' '}
      <Link to="/security">Set it up on the Security page</Link> to continue.
    </div>
  );
}

function NotFound(): JSX.Element {
  return (
    <section className="card">
      <h1>Page not found</h1>
      <p>
        <Link to="/">Go to the overview</Link>
      </p>
    </section>
  );
}

function Forbidden(): JSX.Element {
  return (
    <section className="card">
      <h1>No access</h1>
      <p>Your role does not include this page. Ask an owner or administrator if you need it.</p>
    </section>
  );
}
