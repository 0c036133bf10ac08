package io.github.sisksse.redis;

import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.cluster.api.async.RedisAdvancedClusterAsyncCommands;

import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.util.ClassUtils;

/**
 * Whether a Lettuce connection is disconnected. Lettuce keeps the commands sent while it reconnects and runs them
 * once it is back (or fails them after its command timeout, 60 seconds by default): so that a send fails at once
 * while Redis is down, the log checks the connection first. Other clients fail on their own.
 * <p>
 * <b>Thread safety.</b> Stateless.
 */
final class LettuceConnectivity {

	private static final boolean PRESENT = ClassUtils.isPresent("io.lettuce.core.api.async.RedisAsyncCommands",
			LettuceConnectivity.class.getClassLoader());

	private LettuceConnectivity() {
	}

	/**
	 * Whether a connection can be had from the factory and, if it is a Lettuce one, is connected now.
	 */
	static boolean isConnected(RedisConnectionFactory connectionFactory) {
		try (RedisConnection connection = connectionFactory.getConnection()) {
			return !isDisconnected(connection);
		}
		catch (RuntimeException ex) {
			return false;
		}
	}

	/**
	 * Whether the connection is a Lettuce one whose native connection is not connected now.
	 */
	static boolean isDisconnected(RedisConnection connection) {
		return PRESENT && Lettuce.isDisconnected(connection.getNativeConnection());
	}

	/**
	 * Loaded only when Lettuce is on the classpath.
	 */
	private static final class Lettuce {

		static boolean isDisconnected(Object nativeConnection) {
			if (nativeConnection instanceof RedisAsyncCommands<?, ?> commands) {
				return !commands.getStatefulConnection().isOpen();
			}
			if (nativeConnection instanceof RedisAdvancedClusterAsyncCommands<?, ?> commands) {
				return !commands.getStatefulConnection().isOpen();
			}
			return false;
		}

	}

}
