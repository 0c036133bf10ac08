package io.github.sisksse;

import java.util.ArrayList;
import java.util.List;

import io.github.sisksse.redis.EmbeddedRedis;
import io.github.sisksse.redis.RedisEventLog;

import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Two instances of {@link SseTestApplication}, each on a random port, sharing one embedded Redis through
 * {@code sisk.sse.broker=redis}, with replay on: what a cluster behind a load balancer would be.
 */
final class TwoInstances implements AutoCloseable {

	final EmbeddedRedis redis;

	final Instance a;

	final Instance b;

	private TwoInstances(EmbeddedRedis redis, Instance a, Instance b) {
		this.redis = redis;
		this.a = a;
		this.b = b;
	}

	static TwoInstances start(String... extraArguments) {
		EmbeddedRedis redis = EmbeddedRedis.start();
		String prefix = "http-" + System.nanoTime();
		Instance a = Instance.start(redis, prefix, extraArguments);
		Instance b = Instance.start(redis, prefix, extraArguments);
		return new TwoInstances(redis, a, b);
	}

	@Override
	public void close() {
		this.a.close();
		this.b.close();
		this.redis.close();
	}

	/**
	 * One application instance.
	 */
	record Instance(ConfigurableApplicationContext context, int port, EventSourceRegistry registry,
			RedisEventLog log) implements AutoCloseable {

		static Instance start(EmbeddedRedis redis, String prefix, String... extraArguments) {
			List<String> arguments = new ArrayList<>(List.of("--server.port=0", "--server.address=127.0.0.1",
					"--sisk.sse.broker=redis", "--spring.data.redis.host=127.0.0.1",
					"--spring.data.redis.port=" + redis.port(), "--sisk.sse.redis.key-prefix=" + prefix,
					"--sisk.sse.redis.presence-interval=200ms", "--sisk.sse.replay.enabled=true"));
			arguments.addAll(List.of(extraArguments));
			ConfigurableApplicationContext context = SpringApplication.run(SseTestApplication.class,
					arguments.toArray(new String[0]));
			return new Instance(context, context.getEnvironment().getProperty("local.server.port", Integer.class),
					context.getBean(EventSourceRegistry.class), context.getBean(RedisEventLog.class));
		}

		@Override
		public void close() {
			this.context.close();
		}

	}

}
