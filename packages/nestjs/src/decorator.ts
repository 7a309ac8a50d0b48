/**
 * The parameter decorator that hands the route handler the verified webhook.
 *
 * @module
 */
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { VerifyResult } from '@keyturn/core';
import { RESULT_PROPERTY } from './guard.ts';

/**
 * The verified webhook's result (`keyId`, `keyRole`, `secretId`, ...), set by {@link KeyturnGuard};
 * `@VerifiedWebhook('keyId')` gives one field. A route without the guard fails loudly (500, with
 * the fix in the logged error) instead of handing the handler `undefined`.
 *
 * @example
 * ```ts
 * @Post('smartcar')
 * @UseGuards(KeyturnGuard)
 * receive(@VerifiedWebhook() webhook: VerifyResult, @VerifiedWebhook('keyRole') role: KeyRole) { ... }
 * ```
 */
export const VerifiedWebhook: (property?: keyof VerifyResult) => ParameterDecorator = createParamDecorator(
  (property: keyof VerifyResult | undefined, context: ExecutionContext): unknown => {
    const request = context.switchToHttp().getRequest<Record<string, unknown>>();
    const result = request[RESULT_PROPERTY] as VerifyResult | undefined;
    if (result === undefined) {
      throw new TypeError('@VerifiedWebhook() found no verified webhook on this request: guard the route with @UseGuards(KeyturnGuard).');
    }
    return property === undefined ? result : result[property];
  },
);
