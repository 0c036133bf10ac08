package io.github.sisksse.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

import redis.embedded.RedisServer;

/**
 * What the benchmarks need of the local machine: a free port of 127.0.0.1, and a redis-server (7.0.15, from the
 * embedded-redis dependency) on one, without persistence. Stateless.
 */
final class LocalRedis {

	private LocalRedis() {
	}

	/**
	 * Return a port of 127.0.0.1 that was free a moment ago.
	 */
	static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
			return socket.getLocalPort();
		}
	}

	/**
	 * Start a redis-server bound to 127.0.0.1 on this port, without persistence; the caller stops it.
	 */
	static RedisServer start(int port) {
		RedisServer server = RedisServer.builder()
			.port(port)
			.setting("bind 127.0.0.1")
			.setting("save \"\"")
			.setting("appendonly no")
			.build();
		server.start();
		return server;
	}

}
