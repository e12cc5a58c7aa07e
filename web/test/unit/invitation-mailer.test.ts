import { describe, expect, it } from 'vitest';
import { invitationMessage, invitationsUrl } from '../../src/lib/server/invitation-mailer.ts';

const mail = {
  to: 'ada@example.com', organizationName: 'Acme', role: 'ADMIN', invitedBy: 'Bob', expiresAt: new Date('2026-03-01T12:00:00Z'),
  invitationsUrl: 'https://cic.example.com/invitations',
};

describe('invitation email', () => {
  it('names the organization, the role and the inviter, and links to the dashboard page', () => {
    const m = invitationMessage(mail);
    expect(m).toMatchObject({ to: 'ada@example.com', subject: 'Invitation to join Acme on CIC' });
    expect(m.text).toContain('Bob invited you to join the organization "Acme" on CIC as ADMIN.');
    expect(m.text).toContain('https://cic.example.com/invitations');
    expect(m.text).toContain('expires on 2026-03-01');
    expect(m.html).toContain('<a href="https://cic.example.com/invitations">');
  });

  it('keeps names other users typed inert: no markup, no extra header lines', () => {
    const m = invitationMessage({ ...mail, organizationName: 'Acme <a href="https://evil.example">log in</a>\r\nBcc: x@evil.example', invitedBy: '<img src=x onerror=alert(1)>' });
    expect(m.html).not.toMatch(/<a href="https:\/\/evil|<img/);
    expect(m.html).toContain('&#60;a href=&#34;https://evil.example&#34;&#62;');
    expect(m.subject).not.toMatch(/[\r\n]/);
  });

  it('links to the page on ORIGIN', () => {
    expect(invitationsUrl('https://cic.example.com')).toBe('https://cic.example.com/invitations');
    expect(invitationsUrl('https://cic.example.com/')).toBe('https://cic.example.com/invitations');
  });
});
