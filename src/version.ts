/** The gateway's name and version, as it introduces itself to clients and servers. */
export const GATEWAY_NAME = 'mcproxy';
export const GATEWAY_VERSION = '0.1.0';
