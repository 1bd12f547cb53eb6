import { describe, expect, it } from 'vitest';

import type { CallOrigin } from './owner.js';
import { logRecipients, missingCapability, routeServerRequest, soleSessionCall } from './routing.js';

function call(sessionId: string, group = 'anonymous'): CallOrigin {
  return {
    owner: { sessionId, group },
    capabilities: {},
    sendRequest: () => Promise.resolve({}),
    sendNotification: () => {},
    wantsLog: () => true,
  };
}

const base = { method: 'sampling/createMessage', server: 'ev', attachedSessions: [] as string[], inFlight: [] };

describe('routeServerRequest', () => {
  it('follows the response stream it arrived on, whatever else is in flight', () => {
    const a = call('a');
    const route = routeServerRequest({ ...base, scope: 'shared', related: a, inFlight: [call('b'), a, call('c')] });
    expect(route).toEqual({ kind: 'call', origin: a });
  });

  it("sends a stateless session instance's requests to the one request in flight, and refuses among several", () => {
    const first = call('req-1');
    const second = call('req-2');
    expect(routeServerRequest({ ...base, scope: 'session', instanceSession: 'stateless', inFlight: [first] })).toEqual({
      kind: 'call',
      origin: first,
    });
    const route = routeServerRequest({
      ...base,
      scope: 'session',
      instanceSession: 'stateless',
      inFlight: [first, second],
    });
    expect(route.kind).toBe('refuse');
  });

  it("sends a session instance's requests to its session, on its latest call when there is one", () => {
    const first = call('s');
    const latest = call('s');
    expect(routeServerRequest({ ...base, scope: 'session', instanceSession: 's', inFlight: [first, latest] })).toEqual({
      kind: 'call',
      origin: latest,
    });
    expect(routeServerRequest({ ...base, scope: 'session', instanceSession: 's' })).toEqual({
      kind: 'session',
      sessionId: 's',
    });
  });

  it("refuses while a call of another session was abandoned lately: the request may be that call's", () => {
    const cancelled = call('a');
    const current = call('b');
    const route = routeServerRequest({ ...base, scope: 'shared', inFlight: [current], abandoned: [cancelled] });
    expect(route).toMatchObject({ kind: 'refuse', message: expect.stringContaining('calls of 2 client sessions') });
    // The same session's abandoned call leaves no doubt; with nothing in flight, the usual rules apply.
    const own = routeServerRequest({ ...base, scope: 'shared', inFlight: [current], abandoned: [call('b')] });
    expect(own).toEqual({ kind: 'call', origin: current });
    const none = routeServerRequest({ ...base, scope: 'session', instanceSession: 'a', abandoned: [cancelled] });
    expect(none).toEqual({ kind: 'session', sessionId: 'a' });
  });

  it('routes to the single session with calls in flight on a shared instance', () => {
    const older = call('a');
    const newer = call('a');
    expect(routeServerRequest({ ...base, scope: 'shared', inFlight: [older, newer] })).toEqual({
      kind: 'call',
      origin: newer,
    });
  });

  it('refuses when calls of several sessions are in flight, naming the server and the fix', () => {
    const route = routeServerRequest({ ...base, scope: 'shared', inFlight: [call('a'), call('b')] });
    expect(route.kind).toBe('refuse');
    expect(route.kind === 'refuse' && route.message).toMatch(/server "ev".*2 client sessions.*scope "session"/);
  });

  it('refuses several sessions of one credential too: a credential group may hold several people', () => {
    const route = routeServerRequest({
      ...base,
      scope: 'credential',
      attachedSessions: ['a', 'b'],
      inFlight: [call('a', 'credential:x'), call('b', 'credential:x')],
    });
    expect(route.kind).toBe('refuse');
  });

  it('answers roots itself when the owner is ambiguous or absent', () => {
    expect(
      routeServerRequest({ ...base, method: 'roots/list', scope: 'shared', inFlight: [call('a'), call('b')] }),
    ).toEqual({ kind: 'gateway' });
    expect(routeServerRequest({ ...base, method: 'roots/list', scope: 'shared' })).toEqual({ kind: 'gateway' });
  });

  it('sends an out-of-call request of a credential instance to its only session, else refuses', () => {
    expect(routeServerRequest({ ...base, scope: 'credential', attachedSessions: ['a'] })).toEqual({
      kind: 'session',
      sessionId: 'a',
    });
    expect(routeServerRequest({ ...base, scope: 'credential', attachedSessions: ['a', 'b'] }).kind).toBe('refuse');
    expect(routeServerRequest({ ...base, scope: 'shared' }).kind).toBe('refuse');
  });
});

describe('missingCapability', () => {
  it('needs sampling, and sampling.tools for a request with tools', () => {
    expect(missingCapability('sampling/createMessage', {}, {})).toBe('sampling');
    expect(missingCapability('sampling/createMessage', {}, { sampling: {} })).toBeUndefined();
    expect(missingCapability('sampling/createMessage', { tools: [] }, { sampling: {} })).toBe('sampling with tools');
    expect(missingCapability('sampling/createMessage', { tools: [] }, { sampling: { tools: {} } })).toBeUndefined();
  });

  it('tells form from URL elicitation; an empty elicitation object means form', () => {
    expect(missingCapability('elicitation/create', {}, {})).toBe('elicitation');
    expect(missingCapability('elicitation/create', {}, { elicitation: {} })).toBeUndefined();
    expect(missingCapability('elicitation/create', { mode: 'url' }, { elicitation: {} })).toBe('URL-mode elicitation');
    expect(missingCapability('elicitation/create', { mode: 'url' }, { elicitation: { url: {} } })).toBeUndefined();
    expect(missingCapability('elicitation/create', {}, { elicitation: { url: {} } })).toBe('form-mode elicitation');
  });

  it('needs roots for roots/list, nothing for ping', () => {
    expect(missingCapability('roots/list', undefined, {})).toBe('roots');
    expect(missingCapability('roots/list', undefined, { roots: {} })).toBeUndefined();
    expect(missingCapability('ping', undefined, {})).toBeUndefined();
  });
});

describe('logRecipients', () => {
  const viewers = () => ['a', 'b', 'c'];
  it('is the calling session for a message tied to a call', () => {
    expect([...logRecipients({ scope: 'shared', related: call('b'), attachedSessions: [], viewers })]).toEqual(['b']);
  });
  it("is a session instance's session, a credential instance's sessions, a shared server's viewers", () => {
    expect([...logRecipients({ scope: 'session', instanceSession: 'a', attachedSessions: [], viewers })]).toEqual([
      'a',
    ]);
    expect([...logRecipients({ scope: 'credential', attachedSessions: ['b', 'c'], viewers })]).toEqual(['b', 'c']);
    expect([...logRecipients({ scope: 'shared', attachedSessions: [], viewers })]).toEqual(['a', 'b', 'c']);
  });
});

describe('soleSessionCall', () => {
  it("is the latest call when every call in flight is one session's, else nobody's", () => {
    const first = call('a');
    const latest = call('a');
    expect(soleSessionCall([first, latest])).toBe(latest);
    expect(soleSessionCall([call('a'), call('b')])).toBeUndefined();
    expect(soleSessionCall([])).toBeUndefined();
  });
});
