package io.github.sisksse.redis;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;

import redis.embedded.RedisServer;

import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * A real redis-server (7.0.15, shipped in the embedded-redis test dependency) on a free port of 127.0.0.1, without
 * persistence, so that a restart comes back empty as a replaced Redis would. Tests start, stop, restart and flush it
 * themselves.
 */
public final class EmbeddedRedis implements AutoCloseable {

	private final int port;

	private RedisServer server;

	private EmbeddedRedis(int port) {
		this.port = port;
		this.server = server(port);
	}

	/**
	 * Start a server on a free port.
	 */
	public static EmbeddedRedis start() {
		EmbeddedRedis redis = new EmbeddedRedis(freePort());
		redis.server.start();
		return redis;
	}

	public int port() {
		return this.port;
	}

	/**
	 * Kill the server: its clients' connections break.
	 */
	public void stop() {
		this.server.stop();
	}

	/**
	 * Start it again on the same port, empty.
	 */
	public void restart() {
		this.server = server(this.port);
		this.server.start();
	}

	public boolean isActive() {
		return this.server.isActive();
	}

	/**
	 * Empty it, as FLUSHALL does.
	 */
	public void flushAll() {
		LettuceConnectionFactory factory = connectionFactory();
		try (RedisConnection connection = factory.getConnection()) {
			connection.serverCommands().flushAll();
		}
		finally {
			factory.destroy();
		}
	}

	/**
	 * A started connection factory for this server, with Boot's defaults (a shared Lettuce connection); destroy it
	 * after use.
	 */
	public LettuceConnectionFactory connectionFactory() {
		LettuceConnectionFactory factory = new LettuceConnectionFactory(
				new RedisStandaloneConfiguration("127.0.0.1", this.port));
		factory.afterPropertiesSet();
		factory.start();
		return factory;
	}

	@Override
	public void close() {
		if (this.server.isActive()) {
			this.server.stop();
		}
	}

	private static RedisServer server(int port) {
		return RedisServer.builder()
			.port(port)
			.setting("save \"\"")
			.setting("appendonly no")
			.build();
	}

	private static int freePort() {
		try (ServerSocket socket = new ServerSocket(0)) {
			return socket.getLocalPort();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

}
