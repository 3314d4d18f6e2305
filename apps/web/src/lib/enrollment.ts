/**
 * A tenant policy may require MFA enrolment before anything else: calls then fail with
 * `mfa_enrollment_required`, and the layout points the user to the Security page.
 */
import { useSyncExternalStore } from 'react';
import { toApiError } from './errors';

let enrollmentRequired = false;
const listeners = new Set<() => void>();

export function noteError(error: unknown): void {
  if (toApiError(error).reason === 'mfa_enrollment_required' && !enrollmentRequired) {
    enrollmentRequired = true;
    for (const listener of listeners) listener();
  }
}

export function clearEnrollmentRequired(): void {
  enrollmentRequired = false;
  for (const listener of listeners) listener();
}

export function useEnrollmentRequired(): boolean {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => enrollmentRequired,
  );
}
