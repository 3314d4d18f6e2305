/** Audited calls and refusals per API key over 30 days (overview.apiKeys). */
import type { JSX } from 'react';
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { Empty, Time } from '../../components/states';
import type { Outputs } from '../../lib/trpc';
import { ChartCard, COLOURS } from './chart-card';

type Keys = Outputs['overview']['apiKeys'];

export function ApiKeysCard({ data }: { data: Keys }): JSX.Element {
  const idle = data.keys.filter((k) => k.calls === 0 && k.refusals === 0).length;
  return (
    <ChartCard
      id="api-keys"
      title="API keys, last 30 days"
      summary={`${data.keys.length} keys; ${idle} made no audited call and had no refusal. Calls are the audited actions a key performed (changes and audit-log reads); refusals count every refused request.`}
      chart={
        data.keys.length === 0 ? (
          <Empty>No API keys.</Empty>
        ) : (
          <ResponsiveContainer width="100%" height={Math.max(160, 40 * data.keys.length + 60)}>
            <BarChart data={data.keys} layout="vertical" margin={{ left: 24 }}>
              <CartesianGrid strokeDasharray="3 3" horizontal={false} />
              <XAxis type="number" allowDecimals={false} />
              <YAxis type="category" dataKey="name" width={140} />
              <Tooltip />
              <Legend />
              <Bar
                dataKey="calls"
                name="Audited calls"
                fill={COLOURS.blue}
                isAnimationActive={false}
              />
              <Bar
                dataKey="refusals"
                name="Refusals"
                fill={COLOURS.red}
                isAnimationActive={false}
              />
            </BarChart>
          </ResponsiveContainer>
        )
      }
      table={
        <table aria-label="API key activity">
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Prefix</th>
              <th scope="col">Audited calls</th>
              <th scope="col">Refusals</th>
              <th scope="col">Last used</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {data.keys.map((k) => (
              <tr key={k.id}>
                <th scope="row">{k.name}</th>
                <td>
                  <code>{k.prefix}</code>
                </td>
                <td>{k.calls}</td>
                <td>{k.refusals}</td>
                <td>{k.lastUsedAt ? <Time value={k.lastUsedAt} /> : 'Never'}</td>
                <td>{k.revokedAt ? 'Revoked' : 'Active'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    />
  );
}
