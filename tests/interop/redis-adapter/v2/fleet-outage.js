'use strict';
// The outage check of ../fleet-outage.js for the socket.io 2.5 fleet (socket.io-redis 5.4,
// node_redis 3 with its offline queue), with socket.io-client 2.5 from this folder.
//
// Usage: as ../fleet-outage.js.
process.env.SIO_CLIENT = require.resolve('socket.io-client');
require('../fleet-outage.js');
