-- CreateEnum
CREATE TYPE "SignupPolicy" AS ENUM ('OPEN', 'INVITE_ONLY', 'ALLOWED_DOMAINS');

-- CreateTable
CREATE TABLE "platform_settings" (
    "id" TEXT NOT NULL DEFAULT 'platform',
    "signup_policy" "SignupPolicy" NOT NULL,
    "allowed_email_domains" TEXT[],
    "new_organization_credit_micros" BIGINT NOT NULL,
    "operator_contact" TEXT,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "platform_settings_pkey" PRIMARY KEY ("id")
);
