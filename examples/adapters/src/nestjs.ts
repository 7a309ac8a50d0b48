// NestJS (Express or Fastify platform): KeyturnModule, KeyturnGuard and @VerifiedWebhook().
import { Controller, HttpCode, Module, Post, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { providers, type SmartcarEvent, type VerifyResult } from '@keyturn/core';
import { KeyturnGuard, KeyturnModule, VerifiedWebhook } from '@keyturn/nestjs';
import { envKeyStore } from '@keyturn/store-env';

@Controller('webhooks')
export class WebhooksController {
  @Post('smartcar')
  @HttpCode(204)
  @UseGuards(KeyturnGuard)
  receive(@VerifiedWebhook() webhook: VerifyResult<SmartcarEvent>): void {
    const event = webhook.event; // the verified body as JSON (@Body() gives Nest's parse of it too)
    const type = 'eventType' in event ? event.eventType : event.eventName; // a v4.0 or a v2.0 payload
    console.log(type, 'signed with', webhook.keyId, webhook.keyRole);
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
