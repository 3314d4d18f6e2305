/** Members with and without a second factor, by factor and by role (overview.members). */
import type { JSX } from 'react';
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Tooltip,
  XAxis,
  YAxis,
  ResponsiveContainer,
} from 'recharts';
import type { Outputs } from '../../lib/trpc';
import { ChartCard, COLOURS } from './chart-card';

type Members = Outputs['overview']['members'];
const ROLE_LABEL = {
  owner: 'Owners',
  admin: 'Admins',
  compliance: 'Compliance',
  member: 'Members',
};

export function MembersCard({ data }: { data: Members }): JSX.Element {
  const rows = data.byRole.map((r) => ({
    role: ROLE_LABEL[r.role],
    with: r.withSecondFactor,
    without: r.members - r.withSecondFactor,
  }));
  return (
    <ChartCard
      id="members"
      title="Second factors"
      summary={`${data.withSecondFactor} of ${data.members} active members use a second factor (an authenticator app or a passkey); ${data.withoutSecondFactor} do not.`}
      chart={
        <ResponsiveContainer width="100%" height={240}>
          <BarChart data={rows} layout="vertical" margin={{ left: 24 }}>
            <CartesianGrid strokeDasharray="3 3" horizontal={false} />
            <XAxis type="number" allowDecimals={false} />
            <YAxis type="category" dataKey="role" width={100} />
            <Tooltip />
            <Legend />
            <Bar dataKey="with" name="With a second factor" stackId="a" fill={COLOURS.green} />
            <Bar dataKey="without" name="Without" stackId="a" fill={COLOURS.orange} />
          </BarChart>
        </ResponsiveContainer>
      }
      table={
        <>
          <table aria-label="Second factors by role">
            <thead>
              <tr>
                <th scope="col">Role</th>
                <th scope="col">Active members</th>
                <th scope="col">With a second factor</th>
                <th scope="col">Without</th>
              </tr>
            </thead>
            <tbody>
              {data.byRole.map((r) => (
                <tr key={r.role}>
                  <th scope="row">{ROLE_LABEL[r.role]}</th>
                  <td>{r.members}</td>
                  <td>{r.withSecondFactor}</td>
                  <td>{r.members - r.withSecondFactor}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">All</th>
                <td>{data.members}</td>
                <td>{data.withSecondFactor}</td>
                <td>{data.withoutSecondFactor}</td>
              </tr>
            </tfoot>
          </table>
          <table aria-label="Factors in use">
            <thead>
              <tr>
                <th scope="col">Factor</th>
                <th scope="col">Members</th>
              </tr>
            </thead>
            <tbody>
              <tr>
                <th scope="row">Authenticator app (TOTP)</th>
                <td>{data.factors.totp}</td>
              </tr>
              <tr>
                <th scope="row">Passkey</th>
                <td>{data.factors.passkey}</td>
              </tr>
              <tr>
                <th scope="row">SMS (restricted)</th>
                <td>{data.factors.sms}</td>
              </tr>
              <tr>
                <th scope="row">SMS only</th>
                <td>{data.smsOnly}</td>
              </tr>
              <tr>
                <th scope="row">Disabled accounts (not counted)</th>
                <td>{data.disabled}</td>
              </tr>
            </tbody>
          </table>
        </>
      }
    />
  );
}
