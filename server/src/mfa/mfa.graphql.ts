import { builder, sensitive } from '../builder.ts';
import { sessionViewerOf } from '../context.ts';
import { asViewer } from '../unit-of-work.ts';
import { confirmTotp, disableTotp, enrollTotp } from './mfa.ts';

const TotpEnrollmentRef = builder.objectRef<{ secret: string; uri: string; qrCodeSvg: string }>('TotpEnrollment').implement({
  description: 'Scan the QR code (or type the secret) into an authenticator app, then confirm with a code.',
  authScopes: { session: true },
  fields: (t) => ({
    uri: t.exposeString('uri', { description: 'otpauth:// URI.' }),
    qrCodeSvg: t.exposeString('qrCodeSvg', { description: 'The URI as an SVG QR code.' }),
    secret: t.exposeString('secret', { description: 'Base32 secret, for typing in by hand.' }),
  }),
});

builder.mutationFields((t) => ({
  enrollTotp: t.field({
    type: TotpEnrollmentRef,
    description: 'Starts turning on confirmation codes; needs your password.',
    authScopes: { session: true },
    args: { currentPassword: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => enrollTotp(ctx, sessionViewerOf(ctx), args.currentPassword),
  }),
  confirmTotp: t.stringList({
    description: 'Turns confirmation codes on with a first code; returns ten single-use recovery codes, shown once.',
    authScopes: { session: true },
    args: { code: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => confirmTotp(ctx, sessionViewerOf(ctx), args.code),
  }),
  disableTotp: t.boolean({
    description: 'Turns confirmation codes off. Needs a fresh proof (stepUp with your password and a code or a recovery code).',
    authScopes: sensitive({ session: true }),
    resolve: async (_root, _args, ctx) => {
      await asViewer(ctx, disableTotp, undefined);
      return true;
    },
  }),
}));
