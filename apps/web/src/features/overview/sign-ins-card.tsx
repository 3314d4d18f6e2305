/** Sign-ins per UTC day over 30 days: succeeded, failed, locked out, refused, MFA failures (overview.signIns). */
import type { JSX } from 'react';
import {
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import type { Outputs } from '../../lib/trpc';
import { ChartCard, COLOURS } from './chart-card';

type SignIns = Outputs['overview']['signIns'];

export const SIGN_IN_SERIES = [
  { key: 'succeeded', label: 'Succeeded', colour: COLOURS.green },
  { key: 'failed', label: 'Failed', colour: COLOURS.orange },
  { key: 'lockedOut', label: 'Locked out', colour: COLOURS.red },
  { key: 'refused', label: 'Refused (locked or SSO only)', colour: COLOURS.purple },
  { key: 'mfaFailed', label: 'MFA failures', colour: COLOURS.blue },
] as const;

export function SignInsCard({ data }: { data: SignIns }): JSX.Element {
  const t = data.totals;
  return (
    <ChartCard
      id="sign-ins"
      title="Sign-ins, last 30 days"
      summary={`From ${data.from} to ${data.through} (UTC): succeeded ${t.succeeded}, failed ${t.failed}, accounts locked ${t.lockedOut}, refused ${t.refused}, wrong second-factor codes ${t.mfaFailed}.`}
      chart={
        <ResponsiveContainer width="100%" height={280}>
          <LineChart data={data.days} margin={{ right: 16 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="day" tickFormatter={(day: string) => day.slice(5)} minTickGap={16} />
            <YAxis allowDecimals={false} />
            <Tooltip />
            <Legend />
            {SIGN_IN_SERIES.map((s) => (
              <Line
                key={s.key}
                type="linear"
                dataKey={s.key}
                name={s.label}
                stroke={s.colour}
                dot={false}
                strokeWidth={2}
                isAnimationActive={false}
              />
            ))}
          </LineChart>
        </ResponsiveContainer>
      }
      table={
        <table aria-label="Sign-ins per day">
          <thead>
            <tr>
              <th scope="col">Day (UTC)</th>
              {SIGN_IN_SERIES.map((s) => (
                <th scope="col" key={s.key}>
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {data.days.map((d) => (
              <tr key={d.day}>
                <th scope="row">{d.day}</th>
                {SIGN_IN_SERIES.map((s) => (
                  <td key={s.key}>{d[s.key]}</td>
                ))}
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row">Total</th>
              {SIGN_IN_SERIES.map((s) => (
                <td key={s.key}>{t[s.key]}</td>
              ))}
            </tr>
          </tfoot>
        </table>
      }
    />
  );
}
