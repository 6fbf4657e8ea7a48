// kfake-broker runs franz-go's kfake, an in-memory Kafka written independently
// of Apache Kafka, on 127.0.0.1 for kafkawire's tests: a second broker
// implementation to hold the client against, and a cheap chaos rig (leaders
// and group coordinators that move every few hundred milliseconds).
//
//	kfake-broker -ports 39192            # one broker
//	kfake-broker -ports 39192,39193,39194 -partitions 6 -chaos 500ms
//
// Once every broker listens it prints one line on stdout,
//
//	kfake ready 127.0.0.1:39192,127.0.0.1:39193,127.0.0.1:39194
//
// and then runs until SIGTERM or SIGINT, when it closes the cluster and exits 0.
// tools/broker/kfake-local starts and stops it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	var (
		portsFlag  = flag.String("ports", "", "comma-separated ports on 127.0.0.1, one broker each (1 or 3; required)")
		partitions = flag.Int("partitions", 1, "partitions of an auto-created topic (CreateTopics with -1 too)")
		autoCreate = flag.Bool("auto-create", true, "create a topic when a Metadata request asks for it (auto.create.topics.enable)")
		chaos      = flag.Duration("chaos", 0, "every this long, give every partition a random new leader and move every group coordinator (0: never)")
		minSession = flag.Duration("group-min-session-timeout", time.Second, "group.min.session.timeout.ms (kfake's default is 6s; kafka-local uses 1s)")
		logLevel   = flag.String("log", "none", "kfake's log level on stderr: none, error, warn, info, debug")
		commitLog  = flag.String("commit-log", "", "append every OffsetCommit request, and every commit the broker stored, to this file (see commitlog.go)")
	)
	flag.Parse()

	ports, err := parsePorts(*portsFlag)
	if err != nil {
		fail("%v", err)
	}
	level, err := parseLevel(*logLevel)
	if err != nil {
		fail("%v", err)
	}
	if *partitions < 1 {
		fail("-partitions must be at least 1")
	}

	opts := []kfake.Opt{
		kfake.Ports(ports...),
		kfake.DefaultNumPartitions(*partitions),
		kfake.GroupMinSessionTimeout(*minSession),
		kfake.WithLogger(kfake.BasicLogger(os.Stderr, level)),
	}
	if *autoCreate {
		opts = append(opts, kfake.AllowAutoTopicCreation())
	}
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		fail("starting kfake: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	var commits *commitRecorder
	if *commitLog != "" {
		if commits, err = startCommitLog(ctx, cluster, *commitLog); err != nil {
			cluster.Close()
			fail("-commit-log: %v", err)
		}
	}

	fmt.Printf("kfake ready %s\n", strings.Join(cluster.ListenAddrs(), ","))

	if *chaos > 0 {
		go runChaos(ctx, cluster, *chaos)
	}
	<-ctx.Done()
	if commits != nil {
		commits.finish() // one last look at the stored commits, before the cluster goes
	}
	cluster.Close()
	fmt.Fprintln(os.Stderr, "kfake: stopped")
}

// runChaos moves what a client must follow: partition leaders (with their
// leader epochs bumped, as an election does) and the coordinator of every group
// and transactional id. Each tick is logged so a failure in a test can be lined
// up with the move that preceded it.
func runChaos(ctx context.Context, cluster *kfake.Cluster, every time.Duration) {
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for moves := 1; ; moves++ {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		cluster.ShufflePartitionLeaders()
		cluster.RehashCoordinators()
		fmt.Fprintf(os.Stderr, "%s kfake chaos: move %d (leaders shuffled, coordinators rehashed)\n",
			time.Now().Format("15:04:05.000"), moves)
	}
}

func parsePorts(s string) ([]int, error) {
	if s == "" {
		return nil, fmt.Errorf("-ports is required (say -ports 39192 or -ports 39192,39193,39194)")
	}
	var ports []int
	for _, field := range strings.Split(s, ",") {
		port, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("-ports: %q is not a port", field)
		}
		ports = append(ports, port)
	}
	return ports, nil
}

func parseLevel(s string) (kfake.LogLevel, error) {
	switch s {
	case "none":
		return kfake.LogLevelNone, nil
	case "error":
		return kfake.LogLevelError, nil
	case "warn":
		return kfake.LogLevelWarn, nil
	case "info":
		return kfake.LogLevelInfo, nil
	case "debug":
		return kfake.LogLevelDebug, nil
	}
	return 0, fmt.Errorf("-log: %q is not one of none, error, warn, info, debug", s)
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "kfake-broker: "+format+"\n", args...)
	os.Exit(2)
}
