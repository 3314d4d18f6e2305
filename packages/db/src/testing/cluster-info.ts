export interface TestClusterInfo {
  host: string;
  port: number;
  superuser: string;
  superuserPassword: string;
  runtimeUser: string;
  runtimePassword: string;
  template: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    tesseraCluster: TestClusterInfo;
  }
}

export function clusterUrl(
  info: TestClusterInfo,
  database: string,
  as: 'owner' | 'runtime',
): string {
  const [user, password] =
    as === 'owner'
      ? [info.superuser, info.superuserPassword]
      : [info.runtimeUser, info.runtimePassword];
  return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${info.host}:${info.port}/${database}`;
}
