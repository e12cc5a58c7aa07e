import type { AdmissionJournal } from './admission-journal.ts';
import type { KeyAuthenticator } from '@cic/core/api-keys/key-authenticator';
import type { CreditGate } from '@cic/core/billing/credit-gate';
import type { KeyBudgets } from '@cic/core/billing/key-budgets';
import type { InferenceMetrics } from './inference-metrics.ts';
import type { InferenceSettings } from './inference-settings.ts';
import type { NodeRegistry } from './node-registry.ts';
import type { RateLimiter } from './rate-limiter.ts';
import type { UsageRecorder } from './usage-recorder.ts';

/** What the /v1 handlers share; built once by buildInference. */
export interface InferenceDeps {
  settings: InferenceSettings;
  keys: KeyAuthenticator;
  registry: NodeRegistry;
  rateLimiter: RateLimiter;
  /** Journals each admission (in the limiter's script) until its usage record is queued. */
  admissions: AdmissionJournal;
  creditGate: CreditGate;
  keyBudgets: KeyBudgets;
  usage: UsageRecorder;
  metrics: InferenceMetrics;
}
