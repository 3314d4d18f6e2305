/** Privacy requests by state with their deadlines (overview.privacyRequests). */
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
import { Time } from '../../components/states';
import type { Outputs } from '../../lib/trpc';
import { ChartCard, COLOURS } from './chart-card';

type Privacy = Outputs['overview']['privacyRequests'];

export function PrivacyCard({ data }: { data: Privacy }): JSX.Element {
  const overdue = data.byStatus.reduce((n, s) => n + s.overdue, 0);
  const soon = data.byStatus.reduce((n, s) => n + s.dueSoon, 0);
  const rows = data.byStatus.map((s) => ({
    status: s.status,
    overdue: s.overdue,
    dueSoon: s.dueSoon,
    other: s.count - s.overdue - s.dueSoon,
  }));
  return (
    <ChartCard
      id="privacy"
      title="Privacy requests"
      summary={`Open requests past their deadline: ${overdue}; due within 7 days: ${soon}.`}
      chart={
        <ResponsiveContainer width="100%" height={240}>
          <BarChart data={rows}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="status" interval={0} fontSize={12} />
            <YAxis allowDecimals={false} />
            <Tooltip />
            <Legend />
            <Bar
              dataKey="overdue"
              name="Overdue"
              stackId="s"
              fill={COLOURS.red}
              isAnimationActive={false}
            />
            <Bar
              dataKey="dueSoon"
              name="Due within 7 days"
              stackId="s"
              fill={COLOURS.orange}
              isAnimationActive={false}
            />
            <Bar
              dataKey="other"
              name="Other"
              stackId="s"
              fill={COLOURS.grey}
              isAnimationActive={false}
            />
          </BarChart>
        </ResponsiveContainer>
      }
      table={
        <>
          <table aria-label="Privacy requests by state">
            <thead>
              <tr>
                <th scope="col">State</th>
                <th scope="col">Requests</th>
                <th scope="col">Overdue</th>
                <th scope="col">Due within 7 days</th>
                <th scope="col">Next deadline</th>
              </tr>
            </thead>
            <tbody>
              {data.byStatus.map((s) => (
                <tr key={s.status}>
                  <th scope="row">{s.status}</th>
                  <td>{s.count}</td>
                  <td>{s.overdue}</td>
                  <td>{s.dueSoon}</td>
                  <td>{s.nextDueAt ? <Time value={s.nextDueAt} /> : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {data.upcoming.length > 0 ? (
            <table aria-label="Open requests by deadline">
              <thead>
                <tr>
                  <th scope="col">Request</th>
                  <th scope="col">Type</th>
                  <th scope="col">State</th>
                  <th scope="col">Due</th>
                </tr>
              </thead>
              <tbody>
                {data.upcoming.map((r) => (
                  <tr key={r.id}>
                    <th scope="row">
                      <code>{r.id.slice(0, 8)}</code>
                    </th>
                    <td>{r.type}</td>
                    <td>{r.status}</td>
                    <td>
                      <Time value={r.dueAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </>
      }
    />
  );
}
