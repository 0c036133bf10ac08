package io.github.sisksse.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.scheduling.annotation.EnableScheduling;

/**
 * A runnable demo of the Sisk SSE starter: start it and open http://localhost:8080/ to watch events arrive live.
 * <p>
 * Scheduling is enabled for the {@link Ticker}. The event source registry does not share that scheduler: its pings
 * and timeouts run on a one-thread scheduler of its own (or on a {@code TaskScheduler} bean named
 * {@code siskSseTaskScheduler}, if the application declares one).
 */
@SpringBootApplication
@EnableScheduling
public class SampleApplication {

	/**
	 * Start the sample application.
	 * @param args the command line arguments
	 */
	public static void main(String[] args) {
		SpringApplication.run(SampleApplication.class, args);
	}

}
