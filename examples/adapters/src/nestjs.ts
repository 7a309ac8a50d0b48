// NestJS (Express or Fastify platform): KeyturnModule, KeyturnGuard and @VerifiedWebhook().
import { Body, Controller, HttpCode, Module, Post, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { providers, type VerifyResult } from '@keyturn/core';
import { KeyturnGuard, KeyturnModule, VerifiedWebhook } from '@keyturn/nestjs';
import { envKeyStore } from '@keyturn/store-env';

@Controller('webhooks')
export class WebhooksController {
  @Post('smartcar')
  @HttpCode(204)
  @UseGuards(KeyturnGuard)
  receive(@VerifiedWebhook() webhook: VerifyResult, @Body() event: { eventType: string }): void {
    console.log(event.eventType, 'signed with', webhook.keyId, webhook.keyRole);
  }
}

@Module({
  imports: [KeyturnModule.forRoot({ verifier: { provider: providers.smartcar(), keys: envKeyStore(), secretId: 'SMARTCAR_AMT' } })],
  controllers: [WebhooksController],
})
export class AppModule {}

export async function bootstrap(port = 3000) {
  // rawBody: true keeps the exact bytes the sender signed (req.rawBody), on either platform.
  const app = await NestFactory.create(AppModule, { rawBody: true });
  await app.listen(port);
  return app;
}
