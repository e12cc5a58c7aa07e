-- AlterTable
ALTER TABLE "invitations" ADD COLUMN     "declined_at" TIMESTAMP(3);
