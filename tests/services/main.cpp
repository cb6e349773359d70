// The Boost.Test module for pedigree::services; every other .cpp here adds cases to it.
#define BOOST_TEST_MODULE pedigree_services
#include <boost/test/unit_test.hpp>
