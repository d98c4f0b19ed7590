// Compiled with `tsc --strict --noEmit` (make test): what the entries do not export is not in
// their types either (each line fails to compile if a name leaks).
// @ts-expect-error the module's loader is the entry's own
import { initSync } from 'qbitpay';
// @ts-expect-error
import type { InitOutput } from 'qbitpay';
// @ts-expect-error
import type { InitInput, SyncInitInput } from 'qbitpay';
// @ts-expect-error the webhook handler's steps are internal
import { handlerStep } from 'qbitpay/webhook';
// @ts-expect-error the verifier's raw exports are internal
import { verify } from 'qbitpay/webhook';
// @ts-expect-error
import { sign } from 'qbitpay';
// @ts-expect-error list requests and pages are interfaces, not constructible classes
import { ListRequest } from 'qbitpay';
// @ts-expect-error
import { ListIterator } from 'qbitpay';

export const unused = [initSync, handlerStep, verify, sign, ListRequest, ListIterator];
